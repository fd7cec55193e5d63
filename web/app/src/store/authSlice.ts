import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { User } from '../api/types';

// The access token lives in this slice (memory) and is mirrored to
// sessionStorage so a reload keeps the person logged in; see README.md.

export interface Session {
  token: string;
  user: User;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface AuthState {
  session: Session | null;
  /** Set when the server refused our token; SessionWatcher acts on it. */
  expired: boolean;
  /** The email of the session that ended, to fill in when logging in again. */
  lastEmail: string;
}

export const SESSION_KEY = 'igemoji.session';

function isSession(v: unknown): v is Session {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<Session>;
  return typeof s.token === 'string' && typeof s.expiresAt === 'number' && typeof s.user?.alias === 'string';
}

/** The session saved in this tab, unless it has expired. */
export function loadSession(storage: Storage | undefined = globalThis.sessionStorage, now = Date.now()): Session | null {
  try {
    const raw = storage?.getItem(SESSION_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    return isSession(parsed) && parsed.expiresAt > now ? parsed : null;
  } catch {
    return null; // storage disabled or corrupt: start logged out
  }
}

export function saveSession(session: Session | null, storage: Storage | undefined = globalThis.sessionStorage): void {
  try {
    if (session) storage?.setItem(SESSION_KEY, JSON.stringify(session));
    else storage?.removeItem(SESSION_KEY);
  } catch {
    // Private mode or quota: the session still lives in memory.
  }
}

const initialState: AuthState = { session: null, expired: false, lastEmail: '' };

const authSlice = createSlice({
  name: 'auth',
  initialState,
  reducers: {
    loggedIn(state, action: PayloadAction<Session>) {
      state.session = action.payload;
      state.expired = false;
    },
    loggedOut(state) {
      state.session = null;
      state.expired = false;
    },
    /** The server said our token is no longer good (or it ran out). */
    sessionExpired(state) {
      if (state.session) {
        state.expired = true;
        state.lastEmail = state.session.user.email;
      }
      state.session = null;
    },
    expiryHandled(state) {
      state.expired = false;
    },
  },
});

export const { loggedIn, loggedOut, sessionExpired, expiryHandled } = authSlice.actions;
export default authSlice.reducer;

type WithAuth = { auth: AuthState };
export const selectSession = (s: WithAuth) => s.auth.session;
export const selectToken = (s: WithAuth) => s.auth.session?.token ?? null;
export const selectUser = (s: WithAuth) => s.auth.session?.user ?? null;
export const selectExpired = (s: WithAuth) => s.auth.expired;
export const selectLastEmail = (s: WithAuth) => s.auth.lastEmail;
