import Alert from '@mui/material/Alert';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import type { FormEvent } from 'react';
import { Navigate, Link as RouterLink, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useI18n } from '../../i18n';
import { safeNext } from '../../lib/navigation';
import { selectToken } from '../../store/authSlice';
import { useAppSelector } from '../../store/hooks';
import { AuthForm } from './AuthForm';
import { LoginFields, useLogin } from './LoginFields';

/** What the sign-up page hands over when the account was made but logging in right after failed. */
export interface LoginState {
  accountMade?: string;
}

export default function LoginPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const token = useAppSelector(selectToken);
  const navigate = useNavigate();
  const madeFor = (useLocation().state as LoginState | null)?.accountMade;
  const form = useLogin(madeFor);

  if (token && !form.isLoading) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await form.submit()) navigate(next, { replace: true });
  };

  return (
    <AuthForm title={t('login.title')} onSubmit={submit}>
      {madeFor ? (
        <Alert severity="success" role="status">
          {t('login.accountMade')}
        </Alert>
      ) : (
        next !== '/' && (
          <Alert severity="info" role="status">
            {t('login.needed')}
          </Alert>
        )
      )}
      <LoginFields form={form} focus={madeFor ? 'password' : 'email'} />
      <Typography variant="body2">
        {t('login.noAccount')}{' '}
        <Link component={RouterLink} to={`/signup?next=${encodeURIComponent(next)}`}>
          {t('nav.signup')}
        </Link>
      </Typography>
    </AuthForm>
  );
}
