import Box from '@mui/material/Box';
import { useTheme } from '@mui/material/styles';
import type { RankItem } from '../../api/types';
import { useI18n } from '../../i18n';

const BAR = 14;

/**
 * Uses per template as horizontal bars. Each row's words are laid out by
 * the browser: the count keeps its width and the name takes what is left,
 * cut with an ellipsis, so wide names (Korean, emoji) never run into the
 * count, even at 360 px. The bars are SVG, their lengths percentages of the
 * row's width.
 */
export function RankingChart({ items }: { items: RankItem[] }) {
  const { t, tn } = useI18n();
  const theme = useTheme();
  const max = Math.max(1, ...items.map((it) => it.uses));
  const summary = items.map((it) => `${it.rank}. ${it.template.name}: ${tn('ranking.uses', it.uses)}`).join('; ');
  return (
    // One image for assistive technology, read as the summary: the rows are its picture.
    <Box component="figure" role="img" aria-label={`${t('ranking.chart')}: ${summary}`} sx={{ m: 0 }}>
      {items.map((it) => (
        <Box key={it.template.id} sx={{ mb: 1 }} data-testid="ranking-row">
          <Box sx={{ display: 'flex', gap: 1, fontSize: 14, lineHeight: '20px', color: 'text.primary' }}>
            <Box
              component="span"
              title={it.template.name}
              sx={{ flex: '1 1 0', minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}
              data-testid="ranking-name"
            >
              {`${it.rank}. ${it.template.name}`}
            </Box>
            <Box component="span" sx={{ flex: 'none', fontWeight: 600, whiteSpace: 'nowrap' }}>
              {tn('ranking.uses', it.uses)}
            </Box>
          </Box>
          <svg width="100%" height={BAR} aria-hidden="true" focusable="false" style={{ display: 'block', marginTop: 2 }}>
            <rect x="0" y="0" width="100%" height={BAR} rx={BAR / 2} fill="#e6e1f5" />
            <rect
              x="0"
              y="0"
              width={`${(it.uses / max) * 100}%`}
              height={BAR}
              rx={BAR / 2}
              fill={theme.palette.primary.main}
              data-testid="ranking-bar"
            />
          </svg>
        </Box>
      ))}
    </Box>
  );
}
