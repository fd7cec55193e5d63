import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import TextField from '@mui/material/TextField';
import { useState } from 'react';
import { apiError, errorStatus } from '../../api/errors';
import { useLogInMutation } from '../../api/users';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useI18n } from '../../i18n';
import { useAppDispatch } from '../../store/hooks';
import { startSession } from '../../store/session';

/** The state of a log-in form; submit resolves true once the session has started. */
export function useLogin(initialEmail = '') {
  const dispatch = useAppDispatch();
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [logIn, { isLoading, error }] = useLogInMutation();
  const ready = email.trim() !== '' && password !== '';
  const submit = async (): Promise<boolean> => {
    if (!ready) return false;
    const res = await logIn({ email: email.trim(), password });
    if (!('data' in res) || !res.data) return false;
    dispatch(startSession(res.data));
    return true;
  };
  return { email, setEmail, password, setPassword, ready, submit, isLoading, error };
}

/** Email, password, what went wrong and the button: the log-in page's and the dialog's. */
export function LoginFields({ form, focus = 'email' }: { form: ReturnType<typeof useLogin>; focus?: 'email' | 'password' }) {
  const { t } = useI18n();
  const wrong = errorStatus(form.error) === 401 || apiError(form.error)?.code === 'invalid';
  return (
    <>
      <TextField
        label={t('field.email')}
        type="email"
        autoComplete="email"
        value={form.email}
        onChange={(e) => form.setEmail(e.target.value)}
        required
        autoFocus={focus === 'email'}
      />
      <TextField
        label={t('field.password')}
        type="password"
        autoComplete="current-password"
        value={form.password}
        onChange={(e) => form.setPassword(e.target.value)}
        required
        autoFocus={focus === 'password'}
      />
      {form.error &&
        (wrong ? (
          <Alert severity="error" role="alert">
            {t('login.failed')}
          </Alert>
        ) : (
          <ErrorAlert error={form.error} />
        ))}
      <Button type="submit" variant="contained" size="large" disabled={form.isLoading || !form.ready}>
        {t('login.submit')}
      </Button>
    </>
  );
}
