import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../../App';
import type { Task, Template } from '../../api/types';
import { alice, json, loggedIn, makeTask, mockFetch, renderApp, template, testStore } from '../../../test/utils';

function Where() {
  const { pathname, search } = useLocation();
  return <output data-testid="where">{pathname + search}</output>;
}

function renderAt(route: string) {
  return renderApp(
    <>
      <AppRoutes />
      <Where />
    </>,
    { route, store: testStore({ auth: loggedIn() }) },
  );
}

const PAGE_SIZE = 12;

/** Result n, made on day n of the month. */
const result = (n: number, over: Partial<Task> = {}): Task =>
  makeTask(n.toString(16).padStart(32, '0'), {
    state: 'done',
    stage: 'done',
    percent: 100,
    created_at: `2026-11-${String(n).padStart(2, '0')}T12:00:00Z`,
    result: { image_url: `/media/results/${n}.jpg?exp=1&sig=s`, width: 800, height: 600, faces: [] },
    ...over,
  });

function page<T>(all: T[], url: URL) {
  const p = Number(url.searchParams.get('page') ?? 1);
  return json({ items: all.slice((p - 1) * PAGE_SIZE, p * PAGE_SIZE), page: p, page_size: PAGE_SIZE, total: all.length });
}

const notFound = () => json({ error: { code: 'not_found', message: '' } }, 404);

async function confirmDelete(user: ReturnType<typeof userEvent.setup>, button: HTMLElement) {
  await user.click(button);
  const dialog = await screen.findByRole('dialog');
  await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
}

describe('My results', () => {
  it('after deleting the only result on the last page, shows the page before, not "No results yet."', async () => {
    let results = Array.from({ length: 13 }, (_, i) => result(13 - i)); // newest first
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users/mypage/results') return page(results, url);
      const id = url.pathname.match(/^\/api\/v1\/faces\/tasks\/(\w+)$/)?.[1];
      if (id && req.method === 'DELETE') {
        results = results.filter((t) => t.task_id !== id);
        return json(null, 204);
      }
      return notFound();
    });
    renderAt('/me?tab=results&page=2');
    const user = userEvent.setup();
    const [only, ...others] = await screen.findAllByRole('button', { name: /Delete the result of/ });
    expect(others).toHaveLength(0);

    await confirmDelete(user, only!);
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent(/^\/me\?tab=results$/));
    expect(await screen.findAllByRole('button', { name: /Delete the result of/ })).toHaveLength(12);
    expect(screen.queryByText('No results yet.')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Go to page 2' })).not.toBeInTheDocument();
    // No card is left where focus was: it goes to the list's panel, not the page.
    expect(screen.getByRole('tabpanel', { name: 'My results' })).toHaveFocus();
  });

  it('says "shared" once a result is shared from its page', async () => {
    const mine = result(3);
    let shared = false;
    const current = () => (shared ? { ...mine, share_url: 'http://x/s/abc' } : mine);
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users/mypage/results') return page([current()], url);
      if (url.pathname === `/api/v1/faces/tasks/${mine.task_id}`) return json(current());
      if (url.pathname === `/api/v1/faces/tasks/${mine.task_id}/share` && req.method === 'POST') {
        shared = true;
        return json({ share_url: 'http://x/s/abc' });
      }
      return notFound();
    });
    renderAt('/me');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('link', { name: /Result of/ }));
    await user.click(await screen.findByRole('button', { name: 'Share' }));
    await screen.findByRole('textbox', { name: 'Share link' });

    await user.click(screen.getByRole('link', { name: 'My page' }));
    expect(await screen.findByText(/· shared$/)).toBeInTheDocument();
  });

  it('asks for fresh thumbnail links when one fails to load', async () => {
    let reads = 0;
    mockFetch(async (url) => {
      if (url.pathname !== '/api/v1/users/mypage/results') return notFound();
      reads++;
      const image_url = `/media/results/3.jpg?exp=${reads}&sig=s`;
      return page([result(3, { result: { image_url, width: 800, height: 600, faces: [] } })], url);
    });
    renderAt('/me');
    const link = await screen.findByRole('link', { name: /Result of/ });
    const thumbnail = link.querySelector('img') as HTMLImageElement;
    expect(thumbnail).toHaveAttribute('src', expect.stringContaining('exp=1&'));
    fireEvent.error(thumbnail); // the signed link ran out
    await waitFor(() => expect(thumbnail).toHaveAttribute('src', expect.stringContaining('exp=2&')));
  });
});

describe('My templates', () => {
  it('after a deletion, puts focus on the next card’s delete button, else the one before, else the panel', async () => {
    let mine: Template[] = [template(3, 'Alpha'), template(2, 'Beta'), template(1, 'Gamma')];
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users/mypage/templates') return page(mine, url);
      const id = Number(url.pathname.match(/^\/api\/v1\/emojis\/(\d+)$/)?.[1]);
      if (id && req.method === 'DELETE') {
        mine = mine.filter((t) => t.id !== id);
        return json(null, 204);
      }
      return notFound();
    });
    renderAt('/me?tab=templates');
    const user = userEvent.setup();

    await confirmDelete(user, await screen.findByRole('button', { name: 'Delete the template Beta' }));
    await waitFor(() => expect(screen.queryByRole('heading', { name: 'Beta' })).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByRole('button', { name: 'Delete the template Gamma' })).toHaveFocus());

    await confirmDelete(user, screen.getByRole('button', { name: 'Delete the template Gamma' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Delete the template Alpha' })).toHaveFocus());

    await confirmDelete(user, screen.getByRole('button', { name: 'Delete the template Alpha' }));
    expect(await screen.findByText('No templates yet.')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole('tabpanel', { name: 'My templates' })).toHaveFocus());
  });
});

describe('Deleting the account', () => {
  const empty = (url: URL) => json({ items: [], page: 1, page_size: PAGE_SIZE, total: 0, ...(url.pathname === '/api/v1/faces/ranking' ? { window_days: 7 } : {}) });

  /** The server: alice's password is "correct horse"; every request is recorded. */
  function server(answerDelete?: (password: string) => Response | Promise<Response>) {
    const deletes: { password: string; auth: string | null; type: string | null }[] = [];
    const fetch = mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/users/me' && req.method === 'DELETE') {
        const { password } = (await req.json()) as { password: string };
        deletes.push({ password, auth: req.headers.get('Authorization'), type: req.headers.get('Content-Type') });
        if (answerDelete) return answerDelete(password);
        return password === 'correct horse' ? json(null, 204) : json({ error: { code: 'forbidden', message: 'The password is incorrect.' } }, 403);
      }
      // After the deletion the old token is dead.
      if (req.headers.get('Authorization') && deletes.some((d) => d.password === 'correct horse')) {
        return json({ error: { code: 'unauthorized', message: 'This account no longer exists.' } }, 401);
      }
      if (url.pathname.startsWith('/api/v1/users/mypage/') || url.pathname.startsWith('/api/v1/emojis/pages/') || url.pathname === '/api/v1/faces/ranking') {
        return empty(url);
      }
      return notFound();
    });
    return { deletes, fetch };
  }

  async function openDialog(user: ReturnType<typeof userEvent.setup>) {
    const section = await screen.findByRole('region', { name: 'Delete account' });
    expect(section).toHaveTextContent(/cannot be undone/);
    await user.click(within(section).getByRole('button', { name: 'Delete account' }));
    return screen.findByRole('dialog', { name: 'Delete your account?' });
  }

  it('asks for the password, and keeps the button off until there is one', async () => {
    server();
    renderAt('/me');
    const user = userEvent.setup();
    const dialog = await openDialog(user);
    expect(dialog).toHaveAccessibleDescription(/Results other people made with your templates stay/);
    const field = within(dialog).getByLabelText(/Password/);
    expect(field).toHaveAttribute('type', 'password');
    expect(field).toHaveAttribute('autocomplete', 'current-password');
    await waitFor(() => expect(field).toHaveFocus());
    const confirm = within(dialog).getByRole('button', { name: 'Delete my account' });
    expect(confirm).toBeDisabled();
    await user.type(field, 'x');
    expect(confirm).toBeEnabled();
    await user.clear(field);
    expect(confirm).toBeDisabled();
  });

  it('sends the password with the token, then ends the session and says so at home', async () => {
    const { deletes, fetch } = server();
    const { store } = renderAt('/me');
    const user = userEvent.setup();
    const dialog = await openDialog(user);
    await user.type(within(dialog).getByLabelText(/Password/), 'correct horse');
    await user.click(within(dialog).getByRole('button', { name: 'Delete my account' }));

    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/));
    expect(deletes).toEqual([{ password: 'correct horse', auth: 'Bearer tok-alice', type: 'application/json' }]);
    const notice = await screen.findByText(/^Your account has been deleted/);
    expect(notice.closest('[role=status]')).not.toBeNull();
    expect(store.getState().auth.session).toBeNull();
    expect(sessionStorage.getItem('igemoji.session')).toBeNull();
    expect(store.getState().api.queries).not.toHaveProperty(['getMyResults(1)']);
    expect(screen.getByRole('link', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument(); // not "Your session has ended"
    expect(await screen.findByText('No templates yet.')).toBeInTheDocument();
    expect(store.getState().auth.expired).toBe(false);
    // Home is read without the dead token.
    const sent = fetch.mock.calls.map(([input, init]) => (input instanceof Request ? input : new Request(input, init)));
    const after = sent.slice(sent.findIndex((r) => r.method === 'DELETE') + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.map((r) => r.headers.get('Authorization'))).toEqual(after.map(() => null));
  });

  it('on a wrong password, says so on the field, keeps what was typed and puts focus back there', async () => {
    server();
    const { store } = renderAt('/me');
    const user = userEvent.setup();
    const dialog = await openDialog(user);
    const field = within(dialog).getByLabelText(/Password/);
    await user.type(field, 'wrong horse');
    await user.keyboard('{Enter}');

    expect(await within(dialog).findByText('The password is incorrect.')).toBeInTheDocument();
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveAccessibleDescription('The password is incorrect.');
    expect(field).toHaveValue('wrong horse');
    await waitFor(() => expect(field).toHaveFocus());
    expect(screen.getByRole('dialog', { name: 'Delete your account?' })).toBeInTheDocument();
    expect(store.getState().auth.session).not.toBeNull();
    expect(screen.getByTestId('where')).toHaveTextContent('/me');
  });

  it('says how long to wait after too many wrong passwords, in Korean too', async () => {
    server(() => {
      const res = json({ error: { code: 'rate_limited', message: 'Too many wrong passwords. Try again in 90 seconds.' } }, 429);
      res.headers.set('Retry-After', '90');
      return res;
    });
    renderApp(<AppRoutes />, { route: '/me', store: testStore({ auth: loggedIn(), lang: 'ko' }) });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: '계정 삭제' }));
    const dialog = await screen.findByRole('dialog', { name: '계정을 삭제할까요?' });
    await user.type(within(dialog).getByLabelText(/비밀번호/), 'guess');
    await user.click(within(dialog).getByRole('button', { name: '내 계정 삭제' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('시도가 너무 많습니다. 2분 후에 다시 시도해 주세요.');
  });

  it('closes on Escape, forgetting the password, and gives focus back to the button', async () => {
    const { deletes } = server();
    renderAt('/me');
    const user = userEvent.setup();
    const dialog = await openDialog(user);
    await user.type(within(dialog).getByLabelText(/Password/), 'secret');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    const button = screen.getByRole('button', { name: 'Delete account' });
    await waitFor(() => expect(button).toHaveFocus());
    await user.click(button);
    expect(within(await screen.findByRole('dialog')).getByLabelText(/Password/)).toHaveValue('');
    expect(deletes).toHaveLength(0);
  });
});

describe('Changing the password', () => {
  const empty = () => json({ items: [], page: 1, page_size: PAGE_SIZE, total: 0 });

  /**
   * The server: alice's password is "correct horse" and her token tok-alice;
   * a change answers as a log-in with tok-alice-2, and the old token dies.
   */
  function server(hold?: Promise<void>) {
    const changes: { method: string; body: unknown; auth: string | null; type: string | null }[] = [];
    let live = 'Bearer tok-alice';
    const reads: { path: string; auth: string | null }[] = [];
    const fetch = mockFetch(async (url, req) => {
      const auth = req.headers.get('Authorization');
      if (auth !== live) return json({ error: { code: 'unauthorized', message: 'Log in again.' } }, 401);
      if (url.pathname === '/api/v1/users/me/password') {
        const body = (await req.json()) as { current_password: string; new_password: string };
        changes.push({ method: req.method, body, auth, type: req.headers.get('Content-Type') });
        if (body.current_password !== 'correct horse') {
          return json({ error: { code: 'forbidden', message: 'The current password is incorrect.' } }, 403);
        }
        live = 'Bearer tok-alice-2';
        await hold;
        return json({ access_token: 'tok-alice-2', token_type: 'Bearer', expires_in: 86400, user: alice });
      }
      if (url.pathname.startsWith('/api/v1/users/mypage/')) {
        reads.push({ path: url.pathname, auth });
        return empty();
      }
      return notFound();
    });
    return { changes, reads, fetch };
  }

  async function form() {
    const section = await screen.findByRole('region', { name: 'Change password' });
    return {
      section,
      current: within(section).getByLabelText(/^Current password/),
      next: within(section).getByLabelText(/^New password/),
      button: within(section).getByRole('button', { name: 'Change password' }),
    };
  }

  it('sits above "Delete account", and keeps the button off until the new password follows the sign-up rule', async () => {
    server();
    renderAt('/me');
    const user = userEvent.setup();
    const { section, current, next, button } = await form();
    const deletion = screen.getByRole('region', { name: 'Delete account' });
    expect(section.compareDocumentPosition(deletion) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(current).toHaveAttribute('type', 'password');
    expect(current).toHaveAttribute('autocomplete', 'current-password');
    expect(next).toHaveAttribute('type', 'password');
    expect(next).toHaveAttribute('autocomplete', 'new-password');
    expect(next).toHaveAccessibleDescription('At least 8 characters, at most 72 bytes (a Korean letter takes 3).');
    expect(button).toBeDisabled();

    await user.type(current, 'correct horse');
    await user.type(next, 'short');
    expect(button).toBeDisabled();
    expect(next).not.toHaveAttribute('aria-invalid', 'true'); // not at the first letters
    await user.tab();
    expect(next).toHaveAttribute('aria-invalid', 'true'); // once left
    await user.type(next, '123');
    expect(button).toBeEnabled();
    expect(next).toHaveAttribute('aria-invalid', 'false');
    await user.clear(current);
    expect(button).toBeDisabled();
  });

  it('sends both passwords with the token, then carries on with the new token, no "session ended" dialog', async () => {
    const { changes, reads } = server();
    const { store } = renderAt('/me');
    const user = userEvent.setup();
    const { section, current, next, button } = await form();
    await user.type(current, 'correct horse');
    await user.type(next, 'battery staple');
    await user.click(button);

    const done = await within(section).findByRole('status');
    expect(done).toHaveTextContent('Your password has been changed. You have been logged out on your other devices.');
    await waitFor(() => expect(done).toHaveFocus());
    expect(changes).toEqual([
      {
        method: 'PUT',
        body: { current_password: 'correct horse', new_password: 'battery staple' },
        auth: 'Bearer tok-alice',
        type: 'application/json',
      },
    ]);
    expect(current).toHaveValue('');
    expect(next).toHaveValue('');
    expect(store.getState().auth.session?.token).toBe('tok-alice-2');
    expect(JSON.parse(sessionStorage.getItem('igemoji.session') ?? '{}')).toMatchObject({ token: 'tok-alice-2' });

    // The next request carries the new token, and the person stays where they were.
    const before = reads.length;
    await user.click(screen.getByRole('tab', { name: 'My templates' }));
    expect(await screen.findByText('No templates yet.')).toBeInTheDocument();
    expect(reads.slice(before)).toEqual([{ path: '/api/v1/users/mypage/templates', auth: 'Bearer tok-alice-2' }]);
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/me\?tab=templates$/);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(store.getState().auth.expired).toBe(false);
  });

  it('on a wrong current password, says so on that field, keeps what was typed and puts focus there', async () => {
    const { changes } = server();
    const { store } = renderAt('/me');
    const user = userEvent.setup();
    const { section, current, next } = await form();
    await user.type(current, 'wrong horse');
    await user.type(next, 'battery staple');
    await user.keyboard('{Enter}');

    expect(await within(section).findByText('The current password is incorrect.')).toBeInTheDocument();
    expect(changes).toHaveLength(1);
    expect(current).toHaveAttribute('aria-invalid', 'true');
    expect(current).toHaveAccessibleDescription('The current password is incorrect.');
    await waitFor(() => expect(current).toHaveFocus());
    expect(current).toHaveValue('wrong horse');
    expect(next).toHaveValue('battery staple');
    expect(within(section).queryByRole('status')).not.toBeInTheDocument();
    expect(store.getState().auth.session?.token).toBe('tok-alice');

    // Typing again puts the message away.
    await user.type(current, '!');
    expect(current).toHaveAttribute('aria-invalid', 'false');
  });

  it('carries on with the new token even if a request refused with the old one ended the session meanwhile', async () => {
    let answer!: () => void;
    const { reads } = server(new Promise<void>((resolve) => (answer = resolve)));
    const { store } = renderAt('/me');
    const user = userEvent.setup();
    const { section, current, next, button } = await form();
    await user.type(current, 'correct horse');
    await user.type(next, 'battery staple');
    await user.click(button);
    // The server has changed the password, its answer is still on the way,
    // and a read with the old token is refused.
    await user.click(screen.getByRole('tab', { name: 'My templates' }));
    expect(await screen.findByRole('dialog', { name: 'Your session has ended' })).toBeInTheDocument();

    answer();
    expect(await within(section).findByRole('status')).toHaveTextContent(/^Your password has been changed/);
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(store.getState().auth.session?.token).toBe('tok-alice-2');
    expect(await screen.findByText('No templates yet.')).toBeInTheDocument();
    expect(reads.at(-1)).toEqual({ path: '/api/v1/users/mypage/templates', auth: 'Bearer tok-alice-2' });
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/me\?tab=templates$/);
  });
});
