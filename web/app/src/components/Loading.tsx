import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import { useI18n } from '../i18n';

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', py: 6 }}>
      <CircularProgress aria-label={label ?? t('common.loading')} />
    </Box>
  );
}
