import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import { useId, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { LoginFields, useLogin } from './LoginFields';

/**
 * Logging in again over the page whose session ended: the page stays as it
 * was (a half-filled form keeps its name and images) and carries on.
 */
export function ReLoginDialog({ email, onDone, onDismiss }: { email: string; onDone: () => void; onDismiss: () => void }) {
  const { t } = useI18n();
  const id = useId();
  const form = useLogin(email);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await form.submit()) onDone();
  };
  return (
    <Dialog
      open
      // Only Escape or "Not now" declines: a stray click beside the dialog
      // must not send the person away from what they were doing.
      onClose={(_e, reason) => reason !== 'backdropClick' && onDismiss()}
      aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`} fullWidth maxWidth="xs">
      <DialogTitle id={`${id}-title`}>{t('relogin.title')}</DialogTitle>
      <DialogContent>
        <DialogContentText id={`${id}-body`} sx={{ mb: 2 }}>
          {t('relogin.body')}
        </DialogContentText>
        <Box component="form" noValidate onSubmit={submit} sx={{ display: 'grid', gap: 2, pt: 1 }}>
          <LoginFields form={form} focus={email ? 'password' : 'email'} />
          <Button onClick={onDismiss}>{t('relogin.dismiss')}</Button>
        </Box>
      </DialogContent>
    </Dialog>
  );
}
