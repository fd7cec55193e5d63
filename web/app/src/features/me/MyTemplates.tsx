import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import IconButton from '@mui/material/IconButton';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { Link as RouterLink } from 'react-router';
import { useDeleteTemplateMutation } from '../../api/emojis';
import type { Template } from '../../api/types';
import { useGetMyTemplatesQuery } from '../../api/users';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { AddIcon, DeleteIcon } from '../../components/icons';
import { Loading } from '../../components/Loading';
import { useI18n } from '../../i18n';
import { TemplateStrip } from '../templates/TemplateStrip';
import type { MyListProps } from './MyResults';
import { PagedList } from './PagedList';
import { useDeleteFocus } from './useDeleteFocus';

export function MyTemplates({ page, onPage, panel }: MyListProps) {
  const { t, formatDate } = useI18n();
  const { data, error, refetch } = useGetMyTemplatesQuery(page);
  const [target, setTarget] = useState<Template | null>(null);
  const [remove, removal] = useDeleteTemplateMutation();
  const focus = useDeleteFocus(data?.items, (tpl) => tpl.id, !!target, panel);

  if (error) return <ErrorAlert error={error} onRetry={refetch} />;
  if (!data) return <Loading />;

  const confirm = async () => {
    if (target) {
      focus.deleting(target.id);
      if ('error' in (await remove(target.id))) focus.failed();
    }
    setTarget(null);
  };

  return (
    <>
      <Button component={RouterLink} to="/templates/new" startIcon={<AddIcon />} variant="outlined" sx={{ mb: 2 }}>
        {t('nav.newTemplate')}
      </Button>
      {removal.error && <ErrorAlert error={removal.error} />}
      <PagedList page={page} data={data} onPage={onPage} empty={t('me.noTemplates')}>
        {data.items.map((tpl) => (
          <Card key={tpl.id} variant="outlined" component="li">
            <CardContent sx={{ pb: 0 }}>
              <Typography variant="h6" component="h3" sx={{ overflowWrap: 'anywhere' }}>
                <Link component={RouterLink} to={`/templates/${tpl.id}`} color="inherit" underline="hover">
                  {tpl.name}
                </Link>
              </Typography>
              <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
                <time dateTime={tpl.created_at}>{formatDate(tpl.created_at)}</time>
              </Typography>
              <TemplateStrip template={tpl} size={28} decorative />
            </CardContent>
            <CardActions sx={{ justifyContent: 'flex-end' }}>
              <IconButton
                color="error"
                onClick={() => setTarget(tpl)}
                ref={focus.button(tpl.id)}
                aria-label={t('me.deleteTemplate', { name: tpl.name })}
              >
                <DeleteIcon />
              </IconButton>
            </CardActions>
          </Card>
        ))}
      </PagedList>
      <ConfirmDialog
        open={!!target}
        title={t('template.deleteTitle')}
        body={t('template.deleteBody', { name: target?.name ?? '' })}
        confirmLabel={t('common.delete')}
        busy={removal.isLoading}
        onConfirm={confirm}
        onClose={() => setTarget(null)}
      />
    </>
  );
}
