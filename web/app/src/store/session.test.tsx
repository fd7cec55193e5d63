import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '../App';
import { safeNext } from '../lib/navigation';
import { alice, json, loggedIn, mockFetch, renderApp, testStore } from '../../test/utils';
import { loadSession, SESSION_KEY, sessionExpired } from './authSlice';
import { endSession, startSession } from './session';
import { beforeKept } from './uploadsSlice';

function Where() {
  const { pathname, search } = useLocation();
  return <output data-testid="where">{pathname + search}</output>;
}

/** The app at route for a logged-in alice, with where it has got to in the test id "where". */
function renderLoggedIn(route: string) {
  return renderApp(
    <>
      <AppRoutes />
      <Where />
    </>,
    { route, store: testStore({ auth: loggedIn() }) },
  );
}

describe('loadSession', () => {
  it('keeps a live session and drops an expired or corrupt one', () => {
    const s = { token: 't', user: alice, expiresAt: 2_000 };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    expect(loadSession(sessionStorage, 1_000)).toEqual(s);
    expect(loadSession(sessionStorage, 3_000)).toBeNull();
    sessionStorage.setItem(SESSION_KEY, '{not json');
    expect(loadSession(sessionStorage, 1_000)).toBeNull();
  });
});

describe('safeNext', () => {
  it('allows only paths on this site', () => {
    expect(safeNext('/me?tab=templates')).toBe('/me?tab=templates');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});

describe('an expired token', () => {
  it('is dropped; the person logs in again over the page, which stays and carries on', async () => {
    let expired = true;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users/mypage/results') {
        if (expired) {
          if (req.headers.get('Authorization') === null) return json({ error: { code: 'unauthorized', message: 'Log in first.' } }, 401);
          expect(req.headers.get('Authorization')).toBe('Bearer tok-alice');
          return json({ error: { code: 'unauthorized', message: 'Your session has expired; please log in again.' } }, 401);
        }
        expect(req.headers.get('Authorization')).toBe('Bearer fresh');
        return json({ items: [], page: 1, page_size: 12, total: 0 });
      }
      if (url.pathname === '/api/v1/users/auth') {
        expect(req.headers.get('Authorization')).toBeNull();
        expect(await req.json()).toEqual({ email: alice.email, password: 'password1' });
        expired = false;
        return json({ access_token: 'fresh', token_type: 'Bearer', expires_in: 3600, user: alice });
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(loggedIn().session));
    const { store } = renderLoggedIn('/me?tab=results');

    const dialog = await screen.findByRole('dialog', { name: 'Your session has ended' });
    expect(screen.getByTestId('where')).toHaveTextContent('/me?tab=results');
    expect(store.getState().auth.session).toBeNull();
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
    // The email of the session that ended is filled in.
    expect(within(dialog).getByLabelText(/Email/)).toHaveValue(alice.email);

    const user = userEvent.setup();
    await user.type(within(dialog).getByLabelText(/Password/), 'password1');
    await user.click(within(dialog).getByRole('button', { name: 'Log in' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('where')).toHaveTextContent('/me?tab=results');
    expect(await screen.findByText('No results yet.')).toBeInTheDocument();
  });

  it('declined on a page that needs an account, sends the person to log in', async () => {
    mockFetch(() => json({ error: { code: 'unauthorized', message: 'Your session has expired; please log in again.' } }, 401));
    renderLoggedIn('/me');
    const dialog = await screen.findByRole('dialog', { name: 'Your session has ended' });
    await userEvent.setup().click(within(dialog).getByRole('button', { name: 'Not now' }));
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent('/login?next=%2Fme'));
    expect(await screen.findByText(/Log in to carry on/)).toBeInTheDocument();
  });

  it('does not keep a visitor from public pages: they load without it', async () => {
    const auth: (string | null)[] = [];
    mockFetch(async (url, req) => {
      auth.push(req.headers.get('Authorization'));
      if (req.headers.get('Authorization')) return json({ error: { code: 'unauthorized', message: 'Your session has expired; please log in again.' } }, 401);
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [], page: 1, page_size: 12, total: 0 });
      if (url.pathname === '/api/v1/faces/ranking') return json({ items: [] });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderLoggedIn('/');
    const dialog = await screen.findByRole('dialog', { name: 'Your session has ended' });
    await userEvent.setup().click(within(dialog).getByRole('button', { name: 'Not now' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(auth).toContain(null);
  });

  it('a wrong password is not an expired session', async () => {
    mockFetch(() => json({ error: { code: 'unauthorized', message: 'Email or password is incorrect.' } }, 401));
    const { store } = renderApp(<AppRoutes />, { route: '/login' });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/Email/), 'x@example.com');
    await user.type(screen.getByLabelText(/Password/), 'wrong-password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Email or password is incorrect.')).toBeInTheDocument();
    expect(store.getState().auth.expired).toBe(false);
  });
});

describe('logging out', () => {
  it('on a page that needs an account goes home, not to the log-in page', async () => {
    mockFetch(async (url) => {
      if (url.pathname.startsWith('/api/v1/users/mypage/')) return json({ items: [], page: 1, page_size: 12, total: 0 });
      if (url.pathname.startsWith('/api/v1/emojis/pages/')) return json({ items: [], page: 1, page_size: 12, total: 0 });
      if (url.pathname === '/api/v1/faces/ranking') return json({ items: [], window_days: 7 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    const { store } = renderLoggedIn('/me');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/));
    expect(store.getState().auth.session).toBeNull();
  });

  it('is in the phone menu, which says who is logged in and starts on its first link', async () => {
    mockFetch(async (url) => {
      if (url.pathname.startsWith('/api/v1/emojis/pages/')) return json({ items: [], page: 1, page_size: 12, total: 0 });
      if (url.pathname === '/api/v1/faces/ranking') return json({ items: [], window_days: 7 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/', store: testStore({ auth: loggedIn() }) });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Open the menu' }));
    const menu = await screen.findByRole('menu');
    // A heading of the menu, not a dimmed item announced as unavailable.
    expect(within(menu).getByText('Logged in as alice')).not.toHaveAttribute('aria-disabled');
    expect(within(menu).queryByRole('menuitem', { name: 'Logged in as alice' })).not.toBeInTheDocument();
    await waitFor(() => expect(within(menu).getByRole('menuitem', { name: 'Gallery' })).toHaveFocus());
    expect(within(menu).getByRole('menuitem', { name: 'Gallery' })).toHaveAttribute('aria-current', 'page');
    expect(within(menu).getByRole('menuitem', { name: 'Log out' })).toBeInTheDocument();
  });
});

describe('the photos uploaded in this tab', () => {
  const bob = { ...alice, id: 2, email: 'bob@example.com', alias: 'bob' };
  const answer = (user = alice) => ({ access_token: 'tok', token_type: 'Bearer' as const, expires_in: 3600, user });

  it('are forgotten and released when the session ends, and when someone else logs in', () => {
    const revoke = vi.spyOn(URL, 'revokeObjectURL');
    const store = testStore({ auth: loggedIn() });
    store.dispatch(beforeKept({ taskId: 'a', url: 'blob:test/a' }));
    store.dispatch(endSession());
    expect(store.getState().uploads).toEqual({ before: {}, order: [] });
    expect(revoke).toHaveBeenCalledWith('blob:test/a');

    store.dispatch(beforeKept({ taskId: 'b', url: 'blob:test/b' }));
    store.dispatch(startSession(answer(bob)));
    expect(store.getState().uploads.before).toEqual({});
    expect(revoke).toHaveBeenCalledWith('blob:test/b');
  });

  it('stay when the same person logs in again after the session ran out', () => {
    const store = testStore({ auth: loggedIn() });
    store.dispatch(beforeKept({ taskId: 'a', url: 'blob:test/a' }));
    store.dispatch(sessionExpired());
    store.dispatch(startSession(answer(alice)));
    expect(store.getState().uploads.before).toEqual({ a: 'blob:test/a' });

    store.dispatch(sessionExpired());
    store.dispatch(startSession(answer(bob)));
    expect(store.getState().uploads.before).toEqual({});
  });
});
