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
  if (token) return children;
  // An expired session is SessionWatcher's to handle (it says why).
  return expired ? null : <Navigate to={loginPath(pathname + search)} replace />;
}
