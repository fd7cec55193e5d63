import { api } from '../api/base';
import type { LoginResponse } from '../api/types';
import { loggedIn, loggedOut } from './authSlice';
import type { AppThunk } from './index';

/** Starts a session from the log-in answer; cached data of the previous identity is dropped. */
export const startSession =
  (res: LoginResponse, now = Date.now()): AppThunk =>
  (dispatch) => {
    dispatch(api.util.resetApiState());
    dispatch(loggedIn({ token: res.access_token, user: res.user, expiresAt: now + res.expires_in * 1000 }));
  };

/** Log-out is the client forgetting its token (the server keeps no session). */
export const endSession = (): AppThunk => (dispatch) => {
  dispatch(loggedOut());
  dispatch(api.util.resetApiState());
};
