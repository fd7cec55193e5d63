import Alert from '@mui/material/Alert';
import LinearProgress from '@mui/material/LinearProgress';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useGetTemplateQuery } from '../../api/emojis';
import { apiError } from '../../api/errors';
import { useCreateTaskMutation } from '../../api/faces';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { useI18n, type KeyedMessage } from '../../i18n';
import { useWindowDropGuard } from '../../lib/useFileDrop';
import { decodes, isImageType, PHOTO_MAX_BYTES } from '../../lib/validation';
import { useAppDispatch } from '../../store/hooks';
import { beforeKept } from '../../store/uploadsSlice';
import { prepareUpload } from '../../lib/previewEngine';
import { EmojiPreview } from './EmojiPreview';
import { PhotoPicker } from './PhotoPicker';
import { LiveTaskProgress } from './TaskProgressView';
import { TemplatePicker } from './TemplatePicker';
import { WebcamCapture } from './WebcamCapture';

function templateParam(v: string | null): number | null {
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : null;
}

export default function UploadPage() {
  const { t } = useI18n();
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const templateId = templateParam(params.get('template'));

  const [photo, setPhoto] = useState<File | null>(null);
  const [photoError, setPhotoError] = useState<KeyedMessage | null>(null);
  const [camera, setCamera] = useState(false);
  const [taskId, setTaskId] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [create, creation] = useCreateTaskMutation();
  // currentData: not the previous template's while another one loads.
  const {
    currentData: template,
    isError: noTemplate,
    refetch: refetchTemplate,
  } = useGetTemplateQuery(templateId ?? 0, { skip: templateId === null });
  // The chosen template was deleted between its choice and the send.
  const [templateGone, setTemplateGone] = useState(false);
  // An error appears below the button: on a phone, off the screen. It is
  // brought into view, or the refusal would look like nothing happened.
  const errorRef = useRef<HTMLDivElement>(null);
  // From the click until the task exists (scaling the photo, then sending
  // it); the ref stops a second click that lands before the re-render.
  const [sending, setSending] = useState(false);
  const sendingRef = useRef(false);
  const busy = sending || creation.isLoading || (taskId !== null && !failed);
  // Choosing a photo, choosing another and opening or closing the camera
  // replace the control that was used; focus would fall to the page, so it
  // goes to the step's section, read out by its name.
  const photoSection = useRef<HTMLElement>(null);
  const shown = useRef({ photo, camera }); // the page's own arrival is AppLayout's
  useEffect(() => {
    if (shown.current.photo === photo && shown.current.camera === camera) return;
    shown.current = { photo, camera };
    if (document.activeElement === null || document.activeElement === document.body) photoSection.current?.focus();
  }, [photo, camera]);
  const photoErrorRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (photoError) photoErrorRef.current?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
  }, [photoError]);
  useEffect(() => {
    if (creation.error) errorRef.current?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
  }, [creation.error, templateGone]);
  // A file dropped beside the drop zone (or on it while busy) must not
  // make the browser open it in place of the page.
  useWindowDropGuard();
  // Each choice supersedes the one before, even if its check ends later.
  const choice = useRef(0);

  const choose = async (f: File) => {
    const n = ++choice.current;
    setCamera(false);
    if (!isImageType(f.type)) return setPhotoError({ key: 'upload.badType' });
    if (f.size > PHOTO_MAX_BYTES) return setPhotoError({ key: 'upload.tooBig', vars: { mb: PHOTO_MAX_BYTES >> 20 } });
    const ok = await decodes(f);
    if (n !== choice.current) return;
    if (!ok) return setPhotoError({ key: 'upload.notImage' });
    setPhotoError(null);
    setPhoto(f);
    setTaskId(null);
    setFailed(false);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!photo || templateId === null || !template || sendingRef.current) return;
    sendingRef.current = true;
    setSending(true);
    // The task before is over (failed): if this send is refused, nothing is
    // under way and the page must not stay locked as if it were.
    setTaskId(null);
    setFailed(false);
    setTemplateGone(false);
    try {
      // Scaled down and re-encoded in the browser: faster to send, and no
      // metadata (location, camera) leaves the device.
      const sent = await prepareUpload(photo);
      const res = await create({ image: sent, filename: sent.name || 'photo.jpg', templateId });
      if ('data' in res && res.data) {
        // The "before" picture of the result page: kept in memory only.
        dispatch(beforeKept({ taskId: res.data.task_id, url: URL.createObjectURL(photo) }));
        setTaskId(res.data.task_id);
      } else if (apiError(res.error)?.code === 'invalid') {
        // Refused as invalid: the template may have been deleted since it
        // was chosen. Then say so, and let the person choose another.
        const again = await refetchTemplate();
        if (apiError(again.error)?.code === 'not_found') {
          setTemplateGone(true);
          setParams({}, { replace: true });
        }
      }
    } finally {
      sendingRef.current = false;
      setSending(false);
    }
  };

  return (
    <Box component="form" onSubmit={submit} noValidate>
      <PageTitle title={t('upload.title')}>{t('upload.title')}</PageTitle>
      <Stack spacing={3}>
        <Paper variant="outlined" component="section" aria-label={t('upload.step1')} sx={{ p: { xs: 1.5, sm: 3 } }}>
          <Typography variant="h6" component="h2" sx={{ mb: 2 }}>
            {t('upload.step1')}
          </Typography>
          <TemplatePicker
            value={templateId}
            disabled={busy}
            onChange={(id) => {
              setTemplateGone(false);
              creation.reset();
              setParams({ template: String(id) }, { replace: true });
            }}
          />
        </Paper>

        <Paper
          variant="outlined"
          component="section"
          aria-label={t('upload.step2')}
          ref={photoSection}
          tabIndex={-1}
          sx={{ p: { xs: 1.5, sm: 3 }, '&:focus:not(:focus-visible)': { outline: 'none' } }}
        >
          <Typography variant="h6" component="h2" sx={{ mb: 2 }}>
            {t('upload.step2')}
          </Typography>
          {camera ? (
            <WebcamCapture onCapture={choose} onCancel={() => setCamera(false)} emojiUrl={template?.images.neutral} />
          ) : photo ? (
            <Box>
              {/* The emoji drawn on the faces in the browser, before upload. */}
              <EmojiPreview photo={photo} templateId={templateId} alt={t('upload.preview')} />
              <Button onClick={() => setPhoto(null)} disabled={busy}>
                {t('upload.another')}
              </Button>
            </Box>
          ) : (
            <PhotoPicker onFile={choose} onCamera={() => setCamera(true)} disabled={busy} />
          )}
          {photoError && (
            <Alert severity="error" role="alert" sx={{ mt: 2 }} ref={photoErrorRef}>
              {t(photoError.key, photoError.vars)}
            </Alert>
          )}
        </Paper>

        <Box>
          <Button type="submit" variant="contained" size="large" disabled={!photo || !template || busy}>
            {t('upload.submit')}
          </Button>
          {sending && (
            <Box role="status" sx={{ mt: 2, maxWidth: 480 }}>
              <Typography variant="body2" sx={{ mb: 1 }}>
                {t('upload.sending')}
              </Typography>
              <LinearProgress aria-label={t('upload.sending')} />
            </Box>
          )}
          {(templateId === null || noTemplate) && (
            <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
              {t('upload.needTemplate')}
            </Typography>
          )}
        </Box>

        {creation.error && (
          <Box ref={errorRef}>
            {templateGone ? (
              <Alert severity="error" role="alert">
                {t('taskError.template_gone')}
              </Alert>
            ) : (
              <ErrorAlert error={creation.error} />
            )}
          </Box>
        )}
        {taskId && (
          <Paper variant="outlined" component="section" aria-label={t('progress.label')} sx={{ p: { xs: 1.5, sm: 3 } }}>
            <LiveTaskProgress
              key={taskId}
              taskId={taskId}
              onFinished={(p) => (p.state === 'done' ? navigate(`/results/${taskId}`) : setFailed(true))}
            />
          </Paper>
        )}
      </Stack>
    </Box>
  );
}
