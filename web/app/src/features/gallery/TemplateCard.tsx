import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';
import type { Template } from '../../api/types';
import { useI18n } from '../../i18n';
import { TemplateStrip } from '../templates/TemplateStrip';
import { creatorText } from '../templates/templateText';

export function TemplateCard({ template }: { template: Template }) {
  const { t, formatDate } = useI18n();
  return (
    <Card component="article" variant="outlined" sx={{ display: 'flex', flexDirection: 'column' }}>
      <CardContent sx={{ flexGrow: 1 }}>
        <Typography variant="h6" component="h3" sx={{ overflowWrap: 'anywhere' }}>
          <Link component={RouterLink} to={`/templates/${template.id}`} underline="hover" color="inherit">
            {template.name}
          </Link>
        </Typography>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5 }}>
          {creatorText(t, template)} · <time dateTime={template.created_at}>{formatDate(template.created_at)}</time>
        </Typography>
        <TemplateStrip template={template} size={30} decorative />
      </CardContent>
      <CardActions>
        <Button
          component={RouterLink}
          to={`/upload?template=${template.id}`}
          size="small"
          variant="contained"
          aria-label={t('template.useNamed', { name: template.name })}
        >
          {t('template.use')}
        </Button>
      </CardActions>
    </Card>
  );
}
