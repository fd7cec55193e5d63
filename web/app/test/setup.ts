import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { FakeWebSocket } from './fakeWebSocket';

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
