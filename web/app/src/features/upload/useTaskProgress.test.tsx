import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { Providers } from '../../App';
import type { Task } from '../../api/types';
import type { AppStore } from '../../store';
import { FakeWebSocket } from '../../../test/fakeWebSocket';
import { alice, fetchedUrls, json, loggedIn, makeTask, mockFetch, sleep, testStore } from '../../../test/utils';
import { facesApi } from '../../api/faces';
import { useTaskProgress } from './useTaskProgress';

const ID = '0fa557ab8ce97592e7f010c29ed99e7a';
const result = { image_url: '/media/results/r.jpg?exp=1&sig=s', width: 640, height: 480, faces: [] };
const task = (over: Partial<Task>): Task => makeTask(ID, over);

function follow(store: AppStore, pollMs = 20, checkMs?: number) {
  const wrapper = ({ children }: { children: ReactNode }) => <Providers store={store}>{children}</Providers>;
  return renderHook(() => useTaskProgress(ID, { pollMs, checkMs }), { wrapper });
}

/** A server whose task answers with the given states, one per poll, the last repeating. */
function serverWith(...states: Task[]) {
  let i = 0;
  return mockFetch((url) => {
    if (url.pathname === `/api/v1/faces/tasks/${ID}`) return json(states[Math.min(i++, states.length - 1)]);
    return json({ error: { code: 'not_found', message: '' } }, 404);
  });
}

describe('useTaskProgress', () => {
  it('falls back to polling by itself when the socket cannot open', async () => {
    FakeWebSocket.mode = 'fail';
    const fetch = serverWith(
      task({}),
      task({ state: 'running', stage: 'detecting', percent: 20 }),
      task({ state: 'running', stage: 'reading', percent: 55 }),
      task({ state: 'done', stage: 'done', percent: 100, result }),
    );
    const { result: hook } = follow(testStore());

    await waitFor(() => expect(hook.current.transport).toBe('polling'));
    await waitFor(() => expect(hook.current.state).toBe('done'), { timeout: 2000 });
    expect(hook.current).toMatchObject({ finished: true, percent: 100, result });
    const polls = fetchedUrls(fetch).filter((u) => u.pathname.endsWith(ID)).length;
    expect(polls).toBeGreaterThanOrEqual(4);

    // Finished: polling stops.
    await sleep(100);
    expect(fetchedUrls(fetch).filter((u) => u.pathname.endsWith(ID)).length).toBe(polls);
  });

  it('falls back to polling when an open socket closes mid-task', async () => {
    const fetch = serverWith(task({ state: 'running', stage: 'detecting', percent: 20 }), task({ state: 'done', stage: 'done', percent: 100, result }));
    const { result: hook } = follow(testStore());
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last().serverOpens());
    expect(hook.current.transport).toBe('socket');
    act(() => FakeWebSocket.last().serverCloses(1001));
    expect(hook.current.transport).toBe('polling');
    await waitFor(() => expect(hook.current.state).toBe('done'), { timeout: 2000 });
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('follows the socket while it is open: subscribes, reads once, no polling', async () => {
    const fetch = serverWith(task({}), task({ state: 'done', stage: 'done', percent: 100, result }));
    const { result: hook } = follow(testStore(), 10);
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe('ws://localhost:3000/api/v1/ws');
    act(() => ws.serverOpens());
    expect(ws.sent).toEqual([{ type: 'subscribe', topic: 'task', task_id: ID }]);

    act(() => ws.serverSends({ type: 'task.progress', task_id: ID, stage: 'detecting', percent: 25 }));
    act(() => ws.serverSends({ type: 'task.progress', task_id: 'someone-else', stage: 'compositing', percent: 90 }));
    expect(hook.current).toMatchObject({ transport: 'socket', state: 'running', stage: 'detecting', percent: 25 });

    await sleep(80); // eight poll intervals: none may happen
    expect(fetch).toHaveBeenCalledTimes(1);

    act(() => ws.serverSends({ type: 'task.done', task_id: ID, result }));
    expect(hook.current).toMatchObject({ state: 'done', finished: true, result });
    expect(ws.readyState).toBe(FakeWebSocket.CLOSED);
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2)); // the cached task is brought up to date
  });

  // The bus is best effort: a task.done lost on the way (Redis away at the
  // moment) must not leave the page waiting while the socket stays open.
  it('reads the task now and then while the socket is open, in case an event was lost', async () => {
    const fetch = serverWith(task({ state: 'running', stage: 'reading', percent: 40 }), task({ state: 'done', stage: 'done', percent: 100, result }));
    const { result: hook } = follow(testStore(), 10, 60);
    act(() => FakeWebSocket.last().serverOpens());
    await waitFor(() => expect(hook.current).toMatchObject({ transport: 'socket', state: 'running', percent: 40 }));
    // No event comes; the next check finds the task done.
    await waitFor(() => expect(hook.current).toMatchObject({ state: 'done', finished: true, result }), { timeout: 2000 });
    expect(hook.current.transport).toBe('socket');
    const reads = fetch.mock.calls.length;
    await sleep(150); // finished: no more checks
    expect(fetch.mock.calls.length).toBe(reads);
  });

  // The socket's end can come before the first read is back; that read,
  // answered while the task still ran, must not leave the cached task
  // running for the result page.
  it('hands the end over only once the first read is back, and the cache says done', async () => {
    let answerFirst: () => void = () => {};
    const held = new Promise<void>((ok) => (answerFirst = ok));
    let reads = 0;
    mockFetch(async (url) => {
      if (url.pathname !== `/api/v1/faces/tasks/${ID}`) return json({ error: { code: 'not_found', message: '' } }, 404);
      if (++reads === 1) {
        await held;
        return json(task({ state: 'running', stage: 'compositing', percent: 85 }));
      }
      return json(task({ state: 'done', stage: 'done', percent: 100, result }));
    });
    const store = testStore();
    const { result: hook } = follow(store, 1000);
    const ws = FakeWebSocket.last();
    act(() => ws.serverOpens());
    act(() => ws.serverSends({ type: 'task.done', task_id: ID, result }));
    expect(hook.current).toMatchObject({ state: 'done', finished: false });

    await act(async () => answerFirst());
    await waitFor(() => expect(hook.current.finished).toBe(true));
    const cached = facesApi.endpoints.getTask.select(ID)(store.getState()).data;
    expect(cached).toMatchObject({ state: 'done', percent: 100, result });
  });

  it('sends the token when logged in, and an expired socket ends the session', async () => {
    serverWith(task({ state: 'running', stage: 'detecting', percent: 20 }));
    const store = testStore({ auth: loggedIn() });
    const { result: hook } = follow(store, 1000);
    const ws = FakeWebSocket.last();
    expect(new URL(ws.url).searchParams.get('token')).toBe('tok-alice');
    act(() => ws.serverOpens());
    act(() => ws.serverCloses(4001));
    expect(store.getState().auth).toEqual({ session: null, expired: true, lastEmail: alice.email });
    expect(hook.current.transport).toBe('polling');
  });
});
