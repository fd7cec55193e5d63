import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { apiError, isUnauthorized } from '../../api/errors';
import { useChangePasswordMutation } from '../../api/users';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useI18n } from '../../i18n';
import { useMountedRef } from '../../lib/hooks';
import { isPassword, passwordBytes, PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARS } from '../../lib/validation';
import { selectUser } from '../../store/authSlice';
import { useAppDispatch, useAppSelector } from '../../store/hooks';
import { renewSession } from '../../store/session';

/**
 * A small form on My page: the current password, then the new one (the
 * sign-up rule). The server answers with a new token and every older one,
 * this tab's too, stops working: the session goes on with the new token,
 * and other devices are logged out.
 */
export function ChangePasswordSection() {
  const { t } = useI18n();
  const headingId = useId();
  const dispatch = useAppDispatch();
  const email = useAppSelector(selectUser)?.email ?? '';
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  // The new password is judged once the field is left (or it is too long,
  // which typing more cannot mend), not at its first letter.
  const [nextLeft, setNextLeft] = useState(false);
  const [done, setDone] = useState(false);
  const [change, { isLoading, error, reset }] = useChangePasswordMutation();
  const currentRef = useRef<HTMLInputElement>(null);
  const doneRef = useRef<HTMLDivElement>(null);
  const mounted = useMountedRef();

  const wrong = apiError(error)?.code === 'forbidden';
  const nextOk = isPassword(next);
  const nextBad = next !== '' && !nextOk && (nextLeft || passwordBytes(next) > PASSWORD_MAX_BYTES);
  const ready = current !== '' && nextOk;

  // Typing again puts away the last answer.
  const edited = () => {
    if (error) reset();
    setDone(false);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (isLoading || !ready) return;
    const res = await change({ current_password: current, new_password: next });
    if ('error' in res) {
      // What was typed stays, to be corrected where it is; a refused
      // session is the log-in dialog's to tell, and it takes focus.
      if (mounted.current && !isUnauthorized(res.error)) currentRef.current?.focus();
      return;
    }
    // The old token is dead from now on: carry on with the new one.
    dispatch(renewSession(res.data));
    if (!mounted.current) return;
    setCurrent('');
    setNext('');
    setNextLeft(false);
    setDone(true);
  };

  // The button goes off with the fields emptied: focus goes to what happened.
  useEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);

  const helperLive = { formHelperText: { 'aria-live': 'polite' as const } };
  return (
    <Box component="section" aria-labelledby={headingId} sx={{ mt: 6, pt: 3, borderTop: 1, borderColor: 'divider' }}>
      <Typography variant="h6" component="h2" id={headingId} gutterBottom>
        {t('password.heading')}
      </Typography>
      <Typography variant="body2" sx={{ mb: 2, maxWidth: '60ch' }}>
        {t('password.explain')}
      </Typography>
      <Box component="form" noValidate onSubmit={submit} sx={{ display: 'grid', gap: 2, maxWidth: 400 }}>
        {/* For password managers: whose password this is. */}
        <input type="email" name="email" autoComplete="username" value={email} readOnly hidden />
        <TextField
          label={t('password.current')}
          type="password"
          name="current-password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => {
            setCurrent(e.target.value);
            edited();
          }}
          required
          inputRef={currentRef}
          error={wrong}
          helperText={wrong ? t('password.wrongCurrent') : undefined}
        />
        <TextField
          label={t('password.new')}
          type="password"
          name="new-password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => {
            setNext(e.target.value);
            edited();
          }}
          onBlur={() => setNextLeft(true)}
          required
          error={nextBad}
          helperText={t('signup.passwordRule', { min: PASSWORD_MIN_CHARS, max: PASSWORD_MAX_BYTES })}
          slotProps={helperLive}
        />
        {error && !wrong && !isUnauthorized(error) && <ErrorAlert error={error} />}
        {done && (
          <Alert severity="success" role="status" ref={doneRef} tabIndex={-1}>
            {t('password.changed')}
          </Alert>
        )}
        <Box>
          <Button type="submit" variant="contained" disabled={!ready} loading={isLoading} loadingPosition="start">
            {isLoading ? t('password.changing') : t('password.submit')}
          </Button>
        </Box>
      </Box>
    </Box>
  );
}
