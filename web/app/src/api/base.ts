import { createApi, fetchBaseQuery, type BaseQueryFn, type FetchArgs, type FetchBaseQueryError } from '@reduxjs/toolkit/query/react';
import { selectToken, sessionExpired, type AuthState } from '../store/authSlice';
import { isUnauthorized, withRetryAfter } from './errors';

/** Endpoints that never carry the token: a stale one must not spoil them. */
const ANONYMOUS = new Set(['logIn', 'signUp', 'checkTaken']);

// Absolute, so that the same code runs in browsers and under Node (tests).
const origin = globalThis.location?.origin ?? 'http://localhost';

const rawBaseQuery = fetchBaseQuery({
  baseUrl: `${origin}/api/v1/`,
  prepareHeaders(headers, { getState, endpoint }) {
    const token = selectToken(getState() as { auth: AuthState });
    if (token && !ANONYMOUS.has(endpoint)) headers.set('Authorization', `Bearer ${token}`);
    headers.set('Accept', 'application/json');
    return headers;
  },
});

/**
 * fetchBaseQuery plus the session rule: when a request that carried our
 * token is answered 401 "unauthorized", the token is dead (expired, or the
 * server's key changed). Forget it; SessionWatcher offers to log in again
 * without leaving the page. A read is then asked again without the token,
 * so public pages (the gallery, a result held by id) still show; a change
 * is not, so that nothing is done anonymously that was meant as the user.
 */
export const baseQuery: BaseQueryFn<string | FetchArgs, unknown, FetchBaseQueryError> = async (args, api, extra) => {
  const current = () => selectToken(api.getState() as { auth: AuthState });
  const sent = ANONYMOUS.has(api.endpoint) ? null : current();
  const send = async () => withRetryAfter(await rawBaseQuery(args, api, extra));
  const result = await send();
  if (sent === null || !isUnauthorized(result.error)) return result;
  // Only the token that was refused ends: an answer that arrives after the
  // person logged in again must not end the new session.
  if (current() === sent) api.dispatch(sessionExpired());
  return api.type === 'query' ? send() : result;
};

export const api = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: ['Template', 'Task', 'Ranking'],
  refetchOnReconnect: true,
  endpoints: () => ({}),
});

/** Tag ids for lists, beside the numeric/string ids of single items. */
export const LIST = 'LIST';
export const MINE = 'MINE';
