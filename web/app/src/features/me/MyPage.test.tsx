import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../../App';
import type { Task, Template } from '../../api/types';
import { json, loggedIn, makeTask, mockFetch, renderApp, template, testStore } from '../../../test/utils';

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
