import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState } from 'react';
import { useShareTaskMutation, useUnshareTaskMutation } from '../../api/faces';
import type { Task } from '../../api/types';
import { ErrorAlert } from '../../components/ErrorAlert';
import { CopyIcon, LinkOffIcon, ShareIcon } from '../../components/icons';
import { type MessageKey, useI18n } from '../../i18n';

/** Share (make a public link and copy it), copy again, or revoke. */
export function ShareControls({ task }: { task: Task }) {
  const { t } = useI18n();
  const [share, sharing] = useShareTaskMutation();
  const [unshare, unsharing] = useUnshareTaskMutation();
  // The key, not the text: a language switch retranslates it.
  const [status, setStatus] = useState<MessageKey | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const copyButton = useRef<HTMLButtonElement>(null);
  const shareButton = useRef<HTMLButtonElement>(null);
  const url = task.share_url;

  // Sharing and unsharing swap the button pressed for others; focus goes
  // to the one that takes its place once it is there, unless the person
  // has moved on.
  const [refocus, setRefocus] = useState<'shared' | 'unshared' | null>(null);
  useEffect(() => {
    if (!refocus || (refocus === 'shared') !== !!url) return;
    setRefocus(null);
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (lost) (url ? copyButton : shareButton).current?.focus();
  }, [refocus, url]);

  // No clipboard (no permission, or not a secure context): the link is
  // selected for Ctrl+C, with focus on it, once its field is there: just
  // after sharing it is not yet. After the effect above, so that it wins.
  const [selectLink, setSelectLink] = useState(false);
  useEffect(() => {
    if (!selectLink || !url) return;
    setSelectLink(false);
    field.current?.focus();
    field.current?.select();
  }, [selectLink, url]);

  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setStatus('share.copied');
    } catch {
      setSelectLink(true);
      setStatus('share.copyManually');
    }
  };

  const onShare = async () => {
    const res = await share(task.task_id);
    setRefocus('error' in res ? null : 'shared');
    if ('data' in res && res.data) await copy(res.data.share_url);
  };

  const onUnshare = async () => {
    const res = await unshare(task.task_id);
    setRefocus('error' in res ? null : 'unshared');
    if (!('error' in res)) setStatus('share.revoked');
  };

  return (
    <Box>
      {url ? (
        <Stack spacing={1}>
          <TextField
            label={t('share.link')}
            value={url}
            inputRef={field}
            size="small"
            fullWidth
            onFocus={(e) => e.target.select()}
            slotProps={{ htmlInput: { readOnly: true } }}
          />
          <Stack direction="row" spacing={1} sx={{ flexWrap: 'wrap', rowGap: 1 }}>
            <Button variant="outlined" startIcon={<CopyIcon />} onClick={() => copy(url)} ref={copyButton}>
              {t('share.copy')}
            </Button>
            <Button color="error" startIcon={<LinkOffIcon />} onClick={onUnshare} disabled={unsharing.isLoading}>
              {t('share.unshare')}
            </Button>
          </Stack>
        </Stack>
      ) : (
        <Button
          variant="outlined"
          startIcon={<ShareIcon />}
          ref={shareButton}
          onClick={onShare}
          disabled={sharing.isLoading}
          sx={{ width: { xs: '100%', sm: 'auto' } }}
        >
          {t('share.share')}
        </Button>
      )}
      <Typography variant="body2" role="status" sx={{ mt: 1, minHeight: '1.5em' }}>
        {status && t(status)}
      </Typography>
      {(sharing.error || unsharing.error) && <ErrorAlert error={sharing.error ?? unsharing.error} />}
    </Box>
  );
}
