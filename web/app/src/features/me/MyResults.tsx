import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import IconButton from '@mui/material/IconButton';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { useState, type RefObject } from 'react';
import { Link as RouterLink } from 'react-router';
import { useDeleteTaskMutation } from '../../api/faces';
import type { Task } from '../../api/types';
import { useGetMyResultsQuery } from '../../api/users';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { DeleteIcon } from '../../components/icons';
import { Loading } from '../../components/Loading';
import { useI18n } from '../../i18n';
import { useRefreshOnError } from '../../lib/hooks';
import { useAppDispatch } from '../../store/hooks';
import { beforeDropped } from '../../store/uploadsSlice';
import { PagedList } from './PagedList';
import { useDeleteFocus } from './useDeleteFocus';

interface ResultCardProps {
  task: Task;
  onDelete: () => void;
  deleteRef: (el: HTMLElement | null) => void;
  /** Reads the list again: its answer has freshly signed image links. */
  onStaleImage: () => void;
}

function ResultCard({ task, onDelete, deleteRef, onStaleImage }: ResultCardProps) {
  const { t, tn, formatDateTime } = useI18n();
  // The signed thumbnail link lasts an hour or two.
  const onImageError = useRefreshOnError(onStaleImage);
  // With the time: results of one day would otherwise read alike.
  const when = formatDateTime(task.created_at);
  const faces = task.result?.faces.length ?? 0;
  const label = t('me.resultOf', { date: when });
  return (
    <Card variant="outlined" component="li">
      <Link component={RouterLink} to={`/results/${task.task_id}`} aria-label={label} sx={{ display: 'block', bgcolor: '#111' }}>
        {task.result && (
          <Box
            component="img"
            src={task.result.image_url}
            alt=""
            loading="lazy"
            onError={onImageError}
            sx={{ display: 'block', width: '100%', aspectRatio: '4 / 3', objectFit: 'cover' }}
          />
        )}
      </Link>
      <CardContent sx={{ pb: 0 }}>
        <Typography variant="body2">
          <time dateTime={task.created_at}>{when}</time> ·{' '}
          {tn('me.faces', faces)}
          {task.share_url ? ` · ${t('me.shared')}` : ''}
        </Typography>
      </CardContent>
      <CardActions sx={{ justifyContent: 'flex-end' }}>
        <IconButton onClick={onDelete} ref={deleteRef} aria-label={t('me.deleteResult', { date: when })} color="error">
          <DeleteIcon />
        </IconButton>
      </CardActions>
    </Card>
  );
}

export interface MyListProps {
  page: number;
  onPage: (p: number, replace?: boolean) => void;
  /** Where focus goes when a deletion leaves no card on the page. */
  panel?: RefObject<HTMLElement | null>;
}

export function MyResults({ page, onPage, panel }: MyListProps) {
  const { t } = useI18n();
  const { data, error, refetch } = useGetMyResultsQuery(page);
  const [target, setTarget] = useState<Task | null>(null);
  const [remove, removal] = useDeleteTaskMutation();
  const dispatch = useAppDispatch();
  const focus = useDeleteFocus(data?.items, (task) => task.task_id, !!target, panel);

  if (error) return <ErrorAlert error={error} onRetry={refetch} />;
  if (!data) return <Loading />;

  const confirm = async () => {
    if (!target) return;
    focus.deleting(target.task_id);
    const res = await remove(target.task_id);
    if ('error' in res) focus.failed();
    else dispatch(beforeDropped(target.task_id));
    setTarget(null);
  };

  return (
    <>
      {removal.error && <ErrorAlert error={removal.error} />}
      <PagedList page={page} data={data} onPage={onPage} empty={t('me.noResults')}>
        {data.items.map((task) => (
          <ResultCard
            key={task.task_id}
            task={task}
            onDelete={() => setTarget(task)}
            deleteRef={focus.button(task.task_id)}
            onStaleImage={refetch}
          />
        ))}
      </PagedList>
      <ConfirmDialog
        open={!!target}
        title={t('result.deleteTitle')}
        body={t('result.deleteBody')}
        confirmLabel={t('common.delete')}
        busy={removal.isLoading}
        onConfirm={confirm}
        onClose={() => setTarget(null)}
      />
    </>
  );
}
