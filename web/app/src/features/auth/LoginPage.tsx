import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type FormEvent } from 'react';
import { Navigate, Link as RouterLink, useNavigate, useSearchParams } from 'react-router';
import { apiError, errorStatus } from '../../api/errors';
import { useLogInMutation } from '../../api/users';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useI18n } from '../../i18n';
import { safeNext } from '../../lib/navigation';
import { selectToken } from '../../store/authSlice';
import { useAppDispatch, useAppSelector } from '../../store/hooks';
import { startSession } from '../../store/session';
import { AuthForm } from './AuthForm';

export default function LoginPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const expired = params.get('expired') === '1';
  const token = useAppSelector(selectToken);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [logIn, { isLoading, error }] = useLogInMutation();

  if (token && !isLoading) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) return;
    const res = await logIn({ email: email.trim(), password });
    if ('data' in res && res.data) {
      dispatch(startSession(res.data));
      navigate(next, { replace: true });
    }
  };

  const wrong = errorStatus(error) === 401 || apiError(error)?.code === 'invalid';
  return (
    <AuthForm title={t('login.title')} onSubmit={submit}>
      {expired && (
        <Alert severity="info" role="status">
          {t('login.expired')}
        </Alert>
      )}
      <TextField
        label={t('field.email')}
        type="email"
        autoComplete="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        required
        autoFocus
      />
      <TextField
        label={t('field.password')}
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      {error &&
        (wrong ? (
          <Alert severity="error" role="alert">
            {t('login.failed')}
          </Alert>
        ) : (
          <ErrorAlert error={error} />
        ))}
      <Button type="submit" variant="contained" size="large" disabled={isLoading || !email.trim() || !password}>
        {t('login.submit')}
      </Button>
      <Typography variant="body2">
        {t('login.noAccount')}{' '}
        <Link component={RouterLink} to={`/signup?next=${encodeURIComponent(next)}`}>
          {t('nav.signup')}
        </Link>
      </Typography>
    </AuthForm>
  );
}
