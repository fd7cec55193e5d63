import { useEffect } from 'react';
import { api } from '../api/base';
import { ReLoginDialog } from '../features/auth/ReLoginDialog';
import { expiryHandled, selectExpired, selectLastEmail, selectSession, sessionExpired } from '../store/authSlice';
import { useAppDispatch, useAppSelector } from '../store/hooks';

/** Longest delay setTimeout honours (about 24.8 days). */
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Handles the end of a session: when the server refuses the token (the
 * base query flags it) or its lifetime runs out here, the person is offered
 * to log in again where they are, so nothing typed or chosen is lost. If
 * they decline, public pages carry on logged out and pages that need an
 * account send them to the log-in page (RequireAuth).
 */
export function SessionWatcher() {
  const expired = useAppSelector(selectExpired);
  const email = useAppSelector(selectLastEmail);
  const session = useAppSelector(selectSession);
  const dispatch = useAppDispatch();

  const expiresAt = session?.expiresAt;
  useEffect(() => {
    if (expiresAt === undefined) return;
    const id = setTimeout(() => dispatch(sessionExpired()), Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMEOUT));
    return () => clearTimeout(id);
  }, [expiresAt, dispatch]);

  if (!expired) return null;
  const done = () => dispatch(expiryHandled());
  const decline = () => {
    dispatch(expiryHandled());
    dispatch(api.util.resetApiState()); // nothing read as the person stays in memory
  };
  return <ReLoginDialog email={email} onDone={done} onDismiss={decline} />;
}
