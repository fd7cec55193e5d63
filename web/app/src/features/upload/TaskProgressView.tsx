import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';
import { useEffect } from 'react';
import { Link as RouterLink } from 'react-router';
import { errorStatus } from '../../api/errors';
import type { Stage } from '../../api/types';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useI18n, type MessageKey } from '../../i18n';
import { loginPath } from '../../lib/navigation';
import { selectUser } from '../../store/authSlice';
import { useAppSelector } from '../../store/hooks';
import type { ProgressState } from './taskProgress';
import { useTaskProgress, type TaskProgress } from './useTaskProgress';

const STAGE_KEY: Record<Stage, MessageKey> = {
  queued: 'stage.queued',
  detecting: 'stage.detecting',
  reading: 'stage.reading',
  compositing: 'stage.compositing',
  done: 'stage.done',
};

const TASK_ERROR_KEY: Partial<Record<string, MessageKey>> = {
  bad_photo: 'taskError.bad_photo',
  template_gone: 'taskError.template_gone',
  gave_up: 'taskError.gave_up',
};

/** The progress bar with the stage in words; how updates arrive is said quietly below. */
export function TaskProgressView({ progress }: { progress: ProgressState }) {
  const { t, lang } = useI18n();
  const stage = t(STAGE_KEY[progress.stage]);
  if (progress.state === 'failed') {
    const key = progress.error ? TASK_ERROR_KEY[progress.error.code] : undefined;
    return (
      <Alert severity="error" role="alert">
        {key ? t(key) : lang === 'en' && progress.error?.message ? progress.error.message : t('taskError.other')}
      </Alert>
    );
  }
  return (
    <Box>
      <Box sx={{ display: 'flex', justifyContent: 'space-between', mb: 0.5 }}>
        {/* Announced when the stage changes, not on every percent. */}
        <Typography aria-live="polite" sx={{ fontWeight: 600 }}>
          {stage}
        </Typography>
        <Typography aria-hidden>{progress.percent}%</Typography>
      </Box>
      <LinearProgress
        variant="determinate"
        value={progress.percent}
        aria-label={t('progress.label')}
        aria-valuetext={`${stage}, ${progress.percent}%`}
        sx={{ height: 10, borderRadius: 5 }}
      />
      <Typography variant="caption" color="text.secondary" data-testid="transport">
        {progress.transport === 'polling' ? t('progress.polling') : progress.transport === 'socket' ? t('progress.live') : t('progress.connecting')}
      </Typography>
    </Box>
  );
}

export interface LiveTaskProgressProps {
  taskId: string;
  onFinished?: (progress: TaskProgress) => void;
}

/** Follows taskId and shows it; key it by taskId. */
export function LiveTaskProgress({ taskId, onFinished }: LiveTaskProgressProps) {
  const { t } = useI18n();
  const user = useAppSelector(selectUser);
  const progress = useTaskProgress(taskId);
  useEffect(() => {
    if (progress.finished) onFinished?.(progress);
  }, [progress.finished]); // once, when it finishes
  // Without the socket the reads are all there is: if they fail, the bar
  // would wait for ever. Most often the session ended (the socket closed
  // 4001) and the task is not readable without it: then a way to log in,
  // to its result page, which follows it on.
  const readError = progress.finished || progress.transport === 'socket' ? null : progress.readError;
  return (
    <>
      <TaskProgressView progress={progress} />
      {readError &&
        (errorStatus(readError) === 404 && !user ? (
          <Alert
            severity="warning"
            role="alert"
            sx={{ mt: 2 }}
            action={
              <Button component={RouterLink} to={loginPath(`/results/${taskId}`)} color="inherit" size="small">
                {t('nav.login')}
              </Button>
            }
          >
            {t('progress.needLogin')}
          </Alert>
        ) : (
          <Box sx={{ mt: 2 }}>
            <ErrorAlert error={readError} />
          </Box>
        ))}
    </>
  );
}
