import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { FakeWebSocket } from './fakeWebSocket';

// findBy*/waitFor give up after 1 s by default; a lazy route's first load
// took longer than that while `make test` ran the Go suites beside it on two
// cores. Waiting longer costs nothing when the page is quick.
configure({ asyncUtilTimeout: 5000 });

// jsdom has no object URLs.
let blobs = 0;
Object.assign(URL, {
  createObjectURL: () => `blob:test/${++blobs}`,
  revokeObjectURL: () => undefined,
});

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('scrollTo', vi.fn()); // jsdom has no layout
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
  localStorage.clear();
});
