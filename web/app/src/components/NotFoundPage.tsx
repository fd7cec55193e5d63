import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';
import { useI18n } from '../i18n';
import { PageTitle } from './PageTitle';

/** A page, or the thing a page shows, that is not there; the way back to the gallery. */
export default function NotFoundPage({ title, body }: { title?: string; body?: string }) {
  const { t } = useI18n();
  const heading = title ?? t('notFound.title');
  return (
    <>
      <PageTitle title={heading}>{heading}</PageTitle>
      <Typography sx={{ mb: 2 }}>{body ?? t('notFound.body')}</Typography>
      <Button component={RouterLink} to="/" variant="contained">
        {t('nav.gallery')}
      </Button>
    </>
  );
}
