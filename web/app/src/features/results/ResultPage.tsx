import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import FormControlLabel from '@mui/material/FormControlLabel';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Switch from '@mui/material/Switch';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { Link as RouterLink, useLocation, useNavigate, useParams } from 'react-router';
import { errorStatus } from '../../api/errors';
import { useDeleteTaskMutation, useGetTaskQuery } from '../../api/faces';
import type { Task, TaskResult } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { DeleteIcon, DownloadIcon } from '../../components/icons';
import { Loading } from '../../components/Loading';
import NotFoundPage from '../../components/NotFoundPage';
import { PageTitle } from '../../components/PageTitle';
import { useI18n } from '../../i18n';
import { useRefreshOnError } from '../../lib/hooks';
import { loginPath } from '../../lib/navigation';
import { selectUser } from '../../store/authSlice';
import { useAppDispatch, useAppSelector } from '../../store/hooks';
import { beforeDropped, selectBeforeUrl } from '../../store/uploadsSlice';
import { LiveTaskProgress, TaskProgressView } from '../upload/TaskProgressView';
import { initialProgress } from '../upload/taskProgress';
import { BeforeAfter } from './BeforeAfter';
import { FaceBoxes } from './FaceBoxes';
import { FaceList } from './FaceList';
import { ShareControls } from './ShareControls';

function fileName(task: Task, result: TaskResult): string {
  const ext = result.image_url.split('?')[0]?.split('.').pop() ?? 'jpg';
  return `igemoji-${task.task_id.slice(0, 8)}.${ext}`;
}

function DeleteButton({ taskId }: { taskId: string }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [remove, removal] = useDeleteTaskMutation();
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const user = useAppSelector(selectUser);
  const onConfirm = async () => {
    const res = await remove(taskId);
    setOpen(false);
    if ('error' in res) return;
    dispatch(beforeDropped(taskId));
    navigate(user ? '/me' : '/', { replace: true });
  };
  return (
    <>
      <Button color="error" variant="outlined" startIcon={<DeleteIcon />} onClick={() => setOpen(true)}>
        {t('common.delete')}
      </Button>
      {removal.error && <ErrorAlert error={removal.error} />}
      <ConfirmDialog
        open={open}
        title={t('result.deleteTitle')}
        body={t('result.deleteBody')}
        confirmLabel={t('common.delete')}
        busy={removal.isLoading}
        onConfirm={onConfirm}
        onClose={() => setOpen(false)}
      />
    </>
  );
}

function Result({ task, result, onImageError }: { task: Task; result: TaskResult; onImageError: () => void }) {
  const { t, tn } = useI18n();
  const before = useAppSelector(selectBeforeUrl(task.task_id));
  const [boxes, setBoxes] = useState(true);
  const [highlighted, setHighlighted] = useState<number | null>(null);
  const faces = result.faces;
  const summary = faces.length === 0 ? t('result.noFaces') : tn('result.faces', faces.length);

  return (
    <>
      <PageTitle title={t('result.title')}>{t('result.title')}</PageTitle>
      <Typography sx={{ mb: 2 }}>{summary}</Typography>
      <BeforeAfter
        before={before}
        after={result.image_url}
        width={result.width}
        height={result.height}
        afterAlt={`${t('result.afterAlt')} ${summary}`}
        onAfterError={onImageError}
        overlay={boxes && faces.length > 0 ? <FaceBoxes faces={faces} width={result.width} height={result.height} highlighted={highlighted} /> : null}
      />
      {faces.length > 0 && (
        <FormControlLabel
          control={<Switch checked={boxes} onChange={(e) => setBoxes(e.target.checked)} />}
          label={t('result.showBoxes')}
          sx={{ mt: 1 }}
        />
      )}
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ my: 3, alignItems: { sm: 'flex-start' } }}>
        <Button variant="contained" startIcon={<DownloadIcon />} href={result.image_url} download={fileName(task, result)}>
          {t('result.download')}
        </Button>
        <Box sx={{ flexGrow: 1, minWidth: 0 }}>
          <ShareControls task={task} />
        </Box>
        <DeleteButton taskId={task.task_id} />
      </Stack>
      {faces.length > 0 && (
        <Box component="section" aria-labelledby="faces-heading">
          <Typography variant="h5" component="h2" id="faces-heading" sx={{ mb: 2 }}>
            {t('result.facesHeading')}
          </Typography>
          <FaceList faces={faces} onHighlight={setHighlighted} />
        </Box>
      )}
    </>
  );
}

export default function ResultPage() {
  const { t } = useI18n();
  const { taskId = '' } = useParams();
  const { pathname } = useLocation();
  const user = useAppSelector(selectUser);
  // A task id is 32 lower-case hex digits (the server's rule): anything else names nothing.
  const valid = /^[0-9a-f]{32}$/.test(taskId);
  const { data: task, error, refetch } = useGetTaskQuery(taskId, { skip: !valid });
  // The signed image link lasts an hour or two: on a failed load, ask for a fresh one.
  const onImageError = useRefreshOnError(refetch);

  if (!valid) return <NotFoundPage />;
  if (error) {
    return errorStatus(error) === 404 ? (
      <>
        <PageTitle title={t('result.title')}>{t('result.title')}</PageTitle>
        <Alert severity="warning" sx={{ mb: 2 }}>
          {t('result.notFound')}
        </Alert>
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1}>
          {!user && (
            <Button component={RouterLink} to={loginPath(pathname)} variant="contained">
              {t('result.logInToSee')}
            </Button>
          )}
          <Button component={RouterLink} to="/upload" variant={user ? 'contained' : 'outlined'}>
            {t('result.makeOne')}
          </Button>
        </Stack>
      </>
    ) : (
      <ErrorAlert error={error} onRetry={refetch} />
    );
  }
  if (!task) return <Loading />;
  if (task.state === 'done' && task.result) return <Result task={task} result={task.result} onImageError={onImageError} />;

  return (
    <>
      <PageTitle title={t('result.title')}>{t('result.title')}</PageTitle>
      <Paper variant="outlined" sx={{ p: { xs: 1.5, sm: 3 }, mb: 2 }}>
        {task.state === 'failed' ? (
          <TaskProgressView progress={{ ...initialProgress, state: 'failed', error: task.error }} />
        ) : (
          <LiveTaskProgress key={task.task_id} taskId={task.task_id} />
        )}
      </Paper>
      {task.state === 'failed' && (
        <Button component={RouterLink} to={`/upload?template=${task.template_id}`} variant="contained">
          {t('result.tryAgain')}
        </Button>
      )}
    </>
  );
}
