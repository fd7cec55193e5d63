import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../../App';
import { alice, fetchedUrls, json, mockFetch, renderApp, sleep } from '../../../test/utils';

function server() {
  return mockFetch(async (url, req) => {
    if (url.pathname === '/api/v1/users' && req.method === 'GET') {
      const taken = url.searchParams.get('case') === 'alias' && url.searchParams.get('value')?.toLowerCase() === 'alice';
      return json({ taken });
    }
    if (url.pathname === '/api/v1/users' && req.method === 'POST') return json(alice, 201);
    if (url.pathname === '/api/v1/users/auth') return json({ access_token: 'new-token', token_type: 'Bearer', expires_in: 3600, user: alice });
    if (url.pathname.startsWith('/api/v1/emojis/pages/')) return json({ items: [], page: 1, page_size: 12, total: 0 });
    if (url.pathname === '/api/v1/faces/ranking') return json({ items: [], window_days: 7 });
    return json({ error: { code: 'not_found', message: '' } }, 404);
  });
}

function Where() {
  const { pathname, search } = useLocation();
  return <output data-testid="where">{pathname + search}</output>;
}

const checks = (fetch: ReturnType<typeof mockFetch>, kind: string) =>
  fetchedUrls(fetch).filter((u) => u.pathname === '/api/v1/users' && u.searchParams.get('case') === kind);

describe('SignupPage', () => {
  it('says live whether the alias and email are taken, asking once typing pauses', async () => {
    const fetch = server();
    renderApp(<AppRoutes />, { route: '/signup' });
    const user = userEvent.setup();

    const alias = await screen.findByLabelText(/Alias/);
    await user.type(alias, 'Alice');
    expect(await screen.findByText('Taken, or too much like one that is.', {}, { timeout: 2000 })).toBeInTheDocument();
    expect(alias).toHaveAttribute('aria-invalid', 'true');
    // Five keystrokes, one question, for the whole value.
    expect(checks(fetch, 'alias').map((u) => u.searchParams.get('value'))).toEqual(['Alice']);

    await user.type(screen.getByLabelText(/Email/), 'new@example.com');
    expect(await screen.findByText('Available.', {}, { timeout: 2000 })).toBeInTheDocument();
    expect(checks(fetch, 'email').map((u) => u.searchParams.get('value'))).toEqual(['new@example.com']);
  });

  it('does not ask about values that cannot be valid', async () => {
    const fetch = server();
    renderApp(<AppRoutes />, { route: '/signup' });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Alias/), 'a');
    await user.type(screen.getByLabelText(/Email/), 'not-an-email');
    await sleep(600);
    expect(checks(fetch, 'alias')).toHaveLength(0);
    expect(checks(fetch, 'email')).toHaveLength(0);
    expect(screen.getByText('2–30 letters or digits of one alphabet (Latin with Korean, Japanese or Chinese is fine); . _ - allowed inside.')).toBeInTheDocument();
  });

  it('says at once when a field holds a character that shows nothing', async () => {
    const fetch = server();
    renderApp(<AppRoutes />, { route: '/signup' });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Alias/), 'ad\u034fmin');
    await user.type(screen.getByLabelText(/Email/), 'zw\u200bsp@example.com');
    for (const label of [/Alias/, /Email/]) expect(screen.getByLabelText(label)).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getAllByText(/character that shows nothing/)).toHaveLength(2);
    await sleep(600);
    expect(checks(fetch, 'alias')).toHaveLength(0);
  });

  it('signs up, logs in and returns where the person was going', async () => {
    const fetch = server();
    const { store } = renderApp(<AppRoutes />, { route: '/signup?next=%2F' });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Email/), 'bob@example.com');
    await user.type(screen.getByLabelText(/Alias/), 'bob');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    await waitFor(() => expect(store.getState().auth.session?.token).toBe('new-token'));
    expect(sessionStorage.getItem('igemoji.session')).toContain('new-token');
    expect(localStorage.getItem('igemoji.session')).toBeNull();
    const signup = fetch.mock.calls.map(([r]) => r as Request).find((r) => r.method === 'POST' && r.url.endsWith('/api/v1/users'));
    expect(await signup?.clone().json()).toEqual({ email: 'bob@example.com', password: 'correct horse', alias: 'bob' });
    expect(await screen.findByRole('heading', { level: 1, name: 'What’s this emoji?' })).toBeInTheDocument();
  });

  it('marks every field to fix on an empty submit and moves focus to the first', async () => {
    const fetch = server();
    renderApp(<AppRoutes />, { route: '/signup' });
    const user = userEvent.setup();
    const email = await screen.findByLabelText(/Email/);
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(screen.getAllByText('Required.')).toHaveLength(3);
    for (const label of [/Email/, /Alias/, /Password/]) expect(screen.getByLabelText(label)).toHaveAttribute('aria-invalid', 'true');
    expect(email).toHaveFocus();
    await user.type(email, 'bob@example.com');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(screen.getByLabelText(/Alias/)).toHaveFocus();
    expect(fetch.mock.calls.some(([r]) => (r as Request).method === 'POST')).toBe(false);
  });

  it('says which field was taken when the sign-up loses a race for it', async () => {
    let aliasTaken = false;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users' && req.method === 'GET') return json({ taken: url.searchParams.get('case') === 'alias' && aliasTaken });
      if (url.pathname === '/api/v1/users' && req.method === 'POST') {
        aliasTaken = true; // someone else took it a moment ago
        return json({ error: { code: 'conflict', message: 'This alias is taken, or looks too much like one that is.' } }, 409);
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/signup' });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Email/), 'bob@example.com');
    await user.type(screen.getByLabelText(/Alias/), 'racer');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await waitFor(() => expect(screen.getAllByText('Available.')).toHaveLength(2), { timeout: 2000 });
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This alias is taken');
    expect(await screen.findByText('Taken, or too much like one that is.')).toBeInTheDocument();
    expect(screen.getByLabelText(/Alias/)).toHaveAttribute('aria-invalid', 'true');
    await waitFor(() => expect(screen.getByLabelText(/Alias/)).toHaveFocus());
  });

  it('sends the person to log in, email filled in, when the account was made but logging in failed', async () => {
    let signups = 0;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users' && req.method === 'GET') return json({ taken: false });
      if (url.pathname === '/api/v1/users' && req.method === 'POST') {
        signups++;
        return json(alice, 201);
      }
      if (url.pathname === '/api/v1/users/auth') return json({ error: { code: 'rate_limited', message: 'Too many tries.' } }, 429);
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(
      <>
        <AppRoutes />
        <Where />
      </>,
      { route: '/signup?next=%2Fme' },
    );
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Email/), 'alice@example.com');
    await user.type(screen.getByLabelText(/Alias/), 'alice');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByTestId('where')).toHaveTextContent('/login?next=%2Fme');
    expect(screen.getByText(/Your account has been made/)).toBeInTheDocument();
    expect(screen.queryByText(/has just been taken/)).not.toBeInTheDocument();
    expect(screen.getByLabelText(/Email/)).toHaveValue('alice@example.com');
    expect(signups).toBe(1);
  });

  it('does not pull the person back when the log-in after a sign-up they left ends', async () => {
    let answer: (r: Response) => void = () => {};
    mockFetch((url, req) => {
      if (url.pathname === '/api/v1/users' && req.method === 'GET') return json({ taken: false });
      if (url.pathname === '/api/v1/users' && req.method === 'POST') return json(alice, 201);
      if (url.pathname === '/api/v1/users/auth') return new Promise<Response>((ok) => (answer = ok));
      if (url.pathname.startsWith('/api/v1/emojis/pages/')) return json({ items: [], page: 1, page_size: 12, total: 0 });
      if (url.pathname === '/api/v1/faces/ranking') return json({ items: [], window_days: 7 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    const { store } = renderApp(
      <>
        <AppRoutes />
        <Where />
      </>,
      { route: '/signup?next=%2Fme' },
    );
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Email/), 'alice@example.com');
    await user.type(screen.getByLabelText(/Alias/), 'alice');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Create account' })).toBeDisabled());

    await user.click(screen.getByRole('link', { name: 'Gallery' }));
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/));
    answer(json({ access_token: 'new-token', token_type: 'Bearer', expires_in: 3600, user: alice }));
    // Logged in, and still where they went.
    await waitFor(() => expect(store.getState().auth.session?.token).toBe('new-token'));
    await sleep(100);
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/);
  });
});
