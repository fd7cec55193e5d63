import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';
import { useI18n } from '../i18n';
import { PageTitle } from './PageTitle';

export default function NotFoundPage() {
  const { t } = useI18n();
  return (
    <>
      <PageTitle title={t('notFound.title')}>{t('notFound.title')}</PageTitle>
      <Typography sx={{ mb: 2 }}>{t('notFound.body')}</Typography>
      <Button component={RouterLink} to="/" variant="contained">
        {t('nav.gallery')}
      </Button>
    </>
  );
}
