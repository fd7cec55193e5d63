import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useRef, useState, type FormEvent } from 'react';
import { Navigate, Link as RouterLink, useNavigate, useSearchParams } from 'react-router';
import { apiError } from '../../api/errors';
import { useLogInMutation, useSignUpMutation, usersApi } from '../../api/users';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useI18n, type MessageKey } from '../../i18n';
import { useMountedRef } from '../../lib/hooks';
import { loginPath, safeNext } from '../../lib/navigation';
import { hasInvisible, isAlias, isEmail, isPassword, PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARS } from '../../lib/validation';
import { selectToken } from '../../store/authSlice';
import { useAppDispatch, useAppSelector } from '../../store/hooks';
import { startSession } from '../../store/session';
import { AuthForm } from './AuthForm';
import type { LoginState } from './LoginPage';
import { useAvailability, type Availability } from './useAvailability';

const AVAILABILITY_KEY: Record<Exclude<Availability, 'idle'>, MessageKey> = {
  checking: 'signup.checking',
  available: 'signup.available',
  taken: 'signup.taken',
  unknown: 'signup.unknown',
};

// A conflict here is an email or alias taken since it was checked.
const SIGNUP_ERRORS = { conflict: 'signup.conflict' } as const satisfies Partial<Record<string, MessageKey>>;

function useFieldHelp(
  value: string,
  wellFormed: boolean,
  availability: Availability,
  rule: MessageKey,
  touched: boolean,
  taken: MessageKey = 'signup.taken',
) {
  const { t } = useI18n();
  if (!value.trim()) return { text: touched ? t('field.required') : t(rule), error: touched };
  // The field looks right: say what is wrong at once.
  if (hasInvisible(value)) return { text: t('signup.invisible'), error: true };
  if (!wellFormed) return { text: t(rule), error: touched };
  if (availability === 'idle') return { text: t(rule), error: false };
  if (availability === 'taken') return { text: t(taken), error: true };
  return { text: t(AVAILABILITY_KEY[availability]), error: false };
}

export default function SignupPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const token = useAppSelector(selectToken);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [alias, setAlias] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const [signUp, signup] = useSignUpMutation();
  const [logIn, login] = useLogInMutation();
  const emailRef = useRef<HTMLInputElement>(null);
  const aliasRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const mounted = useMountedRef();

  const emailOk = isEmail(email.trim());
  const aliasOk = isAlias(alias.trim());
  const passwordOk = isPassword(password);
  const emailState = useAvailability('email', email, isEmail);
  const aliasState = useAvailability('alias', alias, isAlias);
  const emailHelp = useFieldHelp(email, emailOk, emailState, 'signup.emailRule', touched);
  const aliasHelp = useFieldHelp(alias, aliasOk, aliasState, 'signup.aliasRule', touched, 'signup.aliasTaken');

  if (token && !login.isLoading && !signup.isLoading) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    // Focus goes to the first field to fix, whose help text says why.
    const bad = [
      { ok: emailOk && emailState !== 'taken', ref: emailRef },
      { ok: aliasOk && aliasState !== 'taken', ref: aliasRef },
      { ok: passwordOk, ref: passwordRef },
    ].find((f) => !f.ok);
    if (bad) {
      bad.ref.current?.focus();
      return;
    }
    const creds = { email: email.trim(), password };
    const made = await signUp({ ...creds, alias: alias.trim() });
    if ('error' in made) {
      if (apiError(made.error)?.code === 'conflict') {
        // Taken since it was checked: ask again, so the field says which,
        // and take the person there.
        const [emailTaken, aliasTaken] = await Promise.all(
          (
            [
              ['email', email.trim()],
              ['alias', alias.trim()],
            ] as const
          ).map(([kind, value]) =>
            dispatch(usersApi.endpoints.checkTaken.initiate({ case: kind, value }, { forceRefetch: true, subscribe: false }))
              .unwrap()
              .then((r) => r.taken, () => false),
          ),
        );
        (emailTaken && !aliasTaken ? emailRef : aliasRef).current?.focus();
      }
      return;
    }
    const res = await logIn(creds);
    if ('data' in res && res.data) {
      dispatch(startSession(res.data));
      // Not if the person went elsewhere meanwhile.
      if (mounted.current) navigate(next, { replace: true });
    } else if (mounted.current) {
      // The account exists now: sending this form again would call it
      // taken. The log-in page says it was made and has the email filled in.
      navigate(loginPath(next), { replace: true, state: { accountMade: creds.email } satisfies LoginState });
    }
  };

  const busy = signup.isLoading || login.isLoading;
  const helperLive = { formHelperText: { 'aria-live': 'polite' as const } };
  return (
    <AuthForm title={t('signup.title')} onSubmit={submit}>
      <TextField
        label={t('field.email')}
        type="email"
        autoComplete="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        required
        autoFocus
        inputRef={emailRef}
        error={emailHelp.error}
        helperText={emailHelp.text}
        slotProps={helperLive}
      />
      <TextField
        label={t('field.alias')}
        autoComplete="nickname"
        value={alias}
        onChange={(e) => setAlias(e.target.value)}
        required
        inputRef={aliasRef}
        error={aliasHelp.error}
        helperText={aliasHelp.text}
        slotProps={helperLive}
      />
      <TextField
        label={t('field.password')}
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        inputRef={passwordRef}
        error={touched && !passwordOk}
        helperText={
          touched && !password ? t('field.required') : t('signup.passwordRule', { min: PASSWORD_MIN_CHARS, max: PASSWORD_MAX_BYTES })
        }
        slotProps={helperLive}
      />
      {(signup.error || login.error) && <ErrorAlert error={signup.error ?? login.error} overrides={SIGNUP_ERRORS} />}
      <Button type="submit" variant="contained" size="large" disabled={busy}>
        {t('signup.submit')}
      </Button>
      <Typography variant="body2">
        {t('signup.haveAccount')}{' '}
        <Link component={RouterLink} to={`/login?next=${encodeURIComponent(next)}`}>
          {t('nav.login')}
        </Link>
      </Typography>
    </AuthForm>
  );
}
