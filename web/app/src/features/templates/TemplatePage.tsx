import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { Link as RouterLink, useNavigate, useParams } from 'react-router';
import { useDeleteTemplateMutation, useGetTemplateQuery } from '../../api/emojis';
import { errorStatus } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { DeleteIcon, UploadIcon } from '../../components/icons';
import { Loading } from '../../components/Loading';
import { PageTitle } from '../../components/PageTitle';
import NotFoundPage from '../../components/NotFoundPage';
import { useI18n } from '../../i18n';
import { EXPRESSIONS, EXPRESSION_KEY } from '../../lib/expressions';
import { selectUser } from '../../store/authSlice';
import { useAppSelector } from '../../store/hooks';
import { creatorText } from './templateText';

export default function TemplatePage() {
  const { t, formatDate } = useI18n();
  const id = Number(useParams().id);
  const valid = Number.isInteger(id) && id > 0;
  const { data: tpl, error, refetch } = useGetTemplateQuery(id, { skip: !valid });
  const user = useAppSelector(selectUser);
  const [confirming, setConfirming] = useState(false);
  const [remove, removal] = useDeleteTemplateMutation();
  const navigate = useNavigate();

  if (!valid) return <NotFoundPage />;
  if (errorStatus(error) === 404) return <NotFoundPage title={t('template.notFound')} body={t('template.notFoundBody')} />;
  if (error) return <ErrorAlert error={error} onRetry={refetch} />;
  if (!tpl) return <Loading />;

  const mine = !!user && !tpl.builtin && tpl.creator_alias.toLowerCase() === user.alias.toLowerCase();
  const onDelete = async () => {
    const ok = await remove(tpl.id).then((r) => !('error' in r));
    setConfirming(false);
    if (ok) navigate('/me?tab=templates');
  };

  return (
    <>
      <PageTitle title={tpl.name}>{tpl.name}</PageTitle>
      <Typography color="text.secondary" sx={{ mb: 3 }}>
        {creatorText(t, tpl)} · <time dateTime={tpl.created_at}>{formatDate(tpl.created_at)}</time>
      </Typography>
      <Box
        component="ul"
        aria-label={t('template.images')}
        sx={{ listStyle: 'none', p: 0, m: 0, mb: 3, display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(96px, 1fr))' }}
      >
        {EXPRESSIONS.map((e) => (
          <Box component="li" key={e}>
            <Box component="figure" sx={{ m: 0, textAlign: 'center' }}>
              <img src={tpl.images[e]} alt="" width={96} height={96} />
              <Typography component="figcaption" variant="body2">
                {t(EXPRESSION_KEY[e])}
              </Typography>
            </Box>
          </Box>
        ))}
      </Box>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <Button component={RouterLink} to={`/upload?template=${tpl.id}`} variant="contained" size="large" startIcon={<UploadIcon />}>
          {t('template.use')}
        </Button>
        {mine && (
          <Button color="error" variant="outlined" startIcon={<DeleteIcon />} onClick={() => setConfirming(true)}>
            {t('template.delete')}
          </Button>
        )}
      </Stack>
      {removal.error && (
        <Box sx={{ mt: 2 }}>
          <ErrorAlert error={removal.error} />
        </Box>
      )}
      <ConfirmDialog
        open={confirming}
        title={t('template.deleteTitle')}
        body={t('template.deleteBody', { name: tpl.name })}
        confirmLabel={t('common.delete')}
        busy={removal.isLoading}
        onConfirm={onDelete}
        onClose={() => setConfirming(false)}
      />
    </>
  );
}
