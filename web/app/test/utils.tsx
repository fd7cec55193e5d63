import { act, render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { vi } from 'vitest';
import { Providers } from '../src/App';
import type { Task, Template, User } from '../src/api/types';
import type { Lang } from '../src/i18n';
import { makeStore, type AppStore } from '../src/store';
import type { AuthState } from '../src/store/authSlice';

/** A queued task with id, changed by over. */
export const makeTask = (id: string, over: Partial<Task> = {}): Task => ({
  task_id: id,
  template_id: 1,
  state: 'queued',
  stage: 'queued',
  percent: 0,
  created_at: '2026-11-26T12:00:00Z',
  updated_at: '2026-11-26T12:00:00Z',
  result: null,
  error: null,
  ...over,
});

export const alice: User = { id: 1, email: 'alice@example.com', alias: 'alice', created_at: '2026-11-01T10:00:00Z' };

export function loggedIn(user: User = alice, expiresAt = Date.now() + 3_600_000): AuthState {
  return { session: { token: 'tok-' + user.alias, user, expiresAt }, expired: false, lastEmail: '' };
}

export function testStore({ auth, lang = 'en' }: { auth?: AuthState; lang?: Lang } = {}): AppStore {
  return makeStore({ auth: auth ?? { session: null, expired: false, lastEmail: '' }, lang });
}

/** Renders ui with the app's providers inside a router at route. */
export function renderApp(ui: ReactElement, { route = '/', store = testStore() }: { route?: string; store?: AppStore } = {}) {
  return {
    store,
    ...render(
      <Providers store={store}>
        <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
      </Providers>,
    ),
  };
}

export function json(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

export type Handler = (url: URL, req: Request) => Response | Promise<Response>;

/** Replaces fetch with handler; the mock records every request. */
export function mockFetch(handler: Handler) {
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init);
    return handler(new URL(req.url), req);
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

/** The URLs fetch was called with. */
export function fetchedUrls(fn: ReturnType<typeof mockFetch>): URL[] {
  return fn.mock.calls.map(([input]) => new URL(input instanceof Request ? input.url : String(input)));
}

const img = (name: string) => `/media/t/${name}.png`;

export function template(id: number, name: string, extra: Partial<Template> = {}): Template {
  return {
    id,
    name,
    creator_alias: 'bob',
    builtin: false,
    created_at: '2026-11-20T12:00:00Z',
    images: {
      neutral: img(`${id}n`),
      happy: img(`${id}h`),
      sad: img(`${id}s`),
      angry: img(`${id}a`),
      surprised: img(`${id}u`),
      fearful: img(`${id}f`),
      disgusted: img(`${id}d`),
    },
    ...extra,
  };
}

/** Lets time pass, with React told about the updates it brings. */
export const sleep = (ms: number) => act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));
