import { useEffect } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { expiryHandled, selectExpired, selectSession, sessionExpired } from '../store/authSlice';
import { useAppDispatch, useAppSelector } from '../store/hooks';
import { loginPath } from '../lib/navigation';

/** Longest delay setTimeout honours (about 24.8 days). */
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Handles the end of a session: when the server refuses the token (the
 * base query flags it) or its lifetime runs out here, the person is sent to
 * log in, told why, and brought back to this page afterwards.
 */
export function SessionWatcher() {
  const expired = useAppSelector(selectExpired);
  const session = useAppSelector(selectSession);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const { pathname, search } = useLocation();

  // The flag stays up until we are on the log-in page: pages that need a
  // session (RequireAuth) wait for this redirect instead of making their own.
  const onLogin = pathname === '/login';
  useEffect(() => {
    if (!expired) return;
    if (onLogin) dispatch(expiryHandled());
    else navigate(loginPath(pathname + search, true));
  }, [expired, onLogin, dispatch, navigate, pathname, search]);

  const expiresAt = session?.expiresAt;
  useEffect(() => {
    if (expiresAt === undefined) return;
    const id = setTimeout(() => dispatch(sessionExpired()), Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMEOUT));
    return () => clearTimeout(id);
  }, [expiresAt, dispatch]);

  return null;
}
