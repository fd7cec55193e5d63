import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { selectExpired, selectToken } from '../store/authSlice';
import { useAppSelector } from '../store/hooks';
import { loginPath } from '../lib/navigation';

/** Pages for logged-in people: others are sent to log in and come back. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const token = useAppSelector(selectToken);
  const expired = useAppSelector(selectExpired);
  const { pathname, search } = useLocation();
  // While a session that just ended is being renewed (SessionWatcher's
  // dialog), the page stays, with whatever the person had entered.
  if (token || expired) return children;
  return <Navigate to={loginPath(pathname + search)} replace />;
}
