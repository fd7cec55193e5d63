import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useId, useRef, useState, type FormEvent } from 'react';
import { apiError, isUnauthorized } from '../../api/errors';
import { useDeleteAccountMutation } from '../../api/users';
import { useLayout } from '../../components/AppLayout';
import { ErrorAlert } from '../../components/ErrorAlert';
import { DeleteIcon } from '../../components/icons';
import { useI18n } from '../../i18n';
import { selectUser } from '../../store/authSlice';
import { useAppSelector } from '../../store/hooks';

/**
 * Asks for the password again, then deletes the account. On success the
 * session ends as at log-out and the person lands home, told it is done.
 */
function DeleteAccountDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const id = useId();
  const email = useAppSelector(selectUser)?.email ?? '';
  const { endSessionAtHome } = useLayout();
  const [password, setPassword] = useState('');
  const [remove, { isLoading, error, reset }] = useDeleteAccountMutation();
  // Kept on after the answer, while the page gives way to the home page.
  const [done, setDone] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  const busy = isLoading || done;
  const wrong = apiError(error)?.code === 'forbidden';

  const close = () => {
    if (busy) return;
    setPassword('');
    reset();
    onClose();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || password === '') return;
    const res = await remove({ password });
    if ('error' in res) {
      // What was typed stays, to be corrected where it is; a dead session
      // leaves focus to the log-in dialog that opens over this one.
      if (!isUnauthorized(res.error)) field.current?.focus();
      return;
    }
    setDone(true);
    endSessionAtHome({ replace: true, state: { accountDeleted: true } });
  };

  return (
    <Dialog open={open} onClose={close} aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`} fullWidth maxWidth="xs">
      <DialogTitle id={`${id}-title`}>{t('account.dialogTitle')}</DialogTitle>
      {/* The form holds the buttons too, so that Enter in the field sends it. */}
      <Box component="form" noValidate onSubmit={submit} sx={{ display: 'contents' }}>
        <DialogContent>
          <DialogContentText id={`${id}-body`} sx={{ mb: 2 }}>
            {t('account.dialogBody')}
          </DialogContentText>
          <Box sx={{ display: 'grid', gap: 2, pt: 1 }}>
            {/* For password managers: whose password this is. */}
            <input type="email" name="email" autoComplete="username" value={email} readOnly hidden />
            <TextField
              label={t('field.password')}
              type="password"
              name="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
                if (wrong) reset();
              }}
              required
              autoFocus
              inputRef={field}
              error={wrong}
              helperText={wrong ? t('account.wrongPassword') : undefined}
            />
            {/* A refused session is the log-in dialog's to tell. */}
            {error && !wrong && !isUnauthorized(error) && <ErrorAlert error={error} />}
          </Box>
        </DialogContent>
        <DialogActions>
          <Button onClick={close} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button
            type="submit"
            color="error"
            variant="contained"
            disabled={password === ''}
            loading={busy}
            loadingPosition="start"
            startIcon={<DeleteIcon />}
          >
            {busy ? t('account.deleting') : t('account.confirm')}
          </Button>
        </DialogActions>
      </Box>
    </Dialog>
  );
}

/** The end of My page: what deleting the account takes with it, and the way to do it. */
export function DeleteAccountSection() {
  const { t } = useI18n();
  const headingId = useId();
  const [open, setOpen] = useState(false);
  return (
    <Box component="section" aria-labelledby={headingId} sx={{ mt: 6, pt: 3, borderTop: 1, borderColor: 'divider' }}>
      <Typography variant="h6" component="h2" id={headingId} color="error" gutterBottom>
        {t('account.heading')}
      </Typography>
      <Typography variant="body2" sx={{ mb: 2, maxWidth: '60ch' }}>
        {t('account.explain')}
      </Typography>
      <Button variant="outlined" color="error" onClick={() => setOpen(true)} aria-haspopup="dialog">
        {t('account.delete')}
      </Button>
      <DeleteAccountDialog open={open} onClose={() => setOpen(false)} />
    </Box>
  );
}
