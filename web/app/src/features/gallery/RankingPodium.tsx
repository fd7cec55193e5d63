import Box from '@mui/material/Box';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';
import type { RankItem } from '../../api/types';
import { useI18n } from '../../i18n';
import { visuallyHidden } from '../../lib/a11y';

const STEP = {
  1: { order: 2, height: 112, color: '#f2c14e' },
  2: { order: 1, height: 84, color: '#c9d1db' },
  3: { order: 3, height: 64, color: '#e0a878' },
} as const;

/** The top three on a podium: second, first, third from the left; in rank order for screen readers. */
export function RankingPodium({ items }: { items: RankItem[] }) {
  const { t, tn } = useI18n();
  return (
    <Box
      component="ol"
      aria-label={t('ranking.podium')}
      sx={{ display: 'flex', alignItems: 'flex-end', justifyContent: 'center', gap: { xs: 1, sm: 2 }, listStyle: 'none', p: 0, m: 0, mb: 3 }}
    >
      {items.slice(0, 3).map((it) => {
        const step = STEP[it.rank as 1 | 2 | 3] ?? STEP[3];
        return (
          <Box component="li" key={it.template.id} sx={{ order: step.order, flex: '0 1 160px', minWidth: 0, textAlign: 'center' }}>
            <img src={it.template.images.happy} alt="" width={it.rank === 1 ? 64 : 48} height={it.rank === 1 ? 64 : 48} />
            <Typography variant="body2" sx={{ fontWeight: 700, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
              <Link component={RouterLink} to={`/templates/${it.template.id}`} color="inherit">
                {it.template.name}
              </Link>
            </Typography>
            <Typography variant="caption" color="text.secondary">
              {tn('ranking.uses', it.uses)}
            </Typography>
            <Box
              sx={{
                height: step.height,
                bgcolor: step.color,
                color: '#1c1b1f',
                borderRadius: '8px 8px 0 0',
                display: 'flex',
                alignItems: 'center',
                justifyContent: 'center',
                fontSize: '1.75rem',
                fontWeight: 800,
                mt: 0.5,
              }}
            >
              {/* aria-label on a bare span is not read; the words are. */}
              <span aria-hidden="true">{it.rank}</span>
              <Box component="span" sx={visuallyHidden}>
                {t('ranking.rank', { rank: it.rank })}
              </Box>
            </Box>
          </Box>
        );
      })}
    </Box>
  );
}
