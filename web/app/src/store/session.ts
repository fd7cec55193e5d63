import { api } from '../api/base';
import type { LoginResponse } from '../api/types';
import { loggedIn, loggedOut } from './authSlice';
import type { AppThunk } from './index';
import { beforeCleared } from './uploadsSlice';

/**
 * Starts a session from the log-in answer; cached data of the previous
 * identity is dropped, and so are the photos uploaded in this tab, unless
 * the same account logs in again (after its session ran out: the page stays
 * as it was, its "before" picture too).
 */
export const startSession =
  (res: LoginResponse, now = Date.now()): AppThunk =>
  (dispatch, getState) => {
    const { session, lastEmail } = getState().auth;
    const previous = session?.user.email ?? lastEmail;
    if (!previous || previous !== res.user.email) dispatch(beforeCleared());
    dispatch(api.util.resetApiState());
    dispatch(loggedIn({ token: res.access_token, user: res.user, expiresAt: now + res.expires_in * 1000 }));
  };

/** Log-out is the client forgetting its token (the server keeps no session), and the photos of this tab. */
export const endSession = (): AppThunk => (dispatch) => {
  dispatch(loggedOut());
  dispatch(beforeCleared());
  dispatch(api.util.resetApiState());
};

/**
 * Switches to the token of a password change, whose answer is a log-in's:
 * the older token no longer works. The same account keeps its cached data
 * and stays on its page; no "session ended" dialog shows (logging in clears
 * it, should a request refused with the old token have raised it meanwhile).
 * Anything else (the session ended and the cache may hold anonymous reads)
 * starts the session as at log-in.
 */
export const renewSession =
  (res: LoginResponse, now = Date.now()): AppThunk =>
  (dispatch, getState) => {
    const { session } = getState().auth;
    if (session?.user.id !== res.user.id) {
      dispatch(startSession(res, now));
      return;
    }
    dispatch(loggedIn({ token: res.access_token, user: res.user, expiresAt: now + res.expires_in * 1000 }));
  };
