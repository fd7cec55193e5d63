import Box from '@mui/material/Box';
import { useTheme } from '@mui/material/styles';
import { useId } from 'react';
import type { RankItem } from '../../api/types';
import { useI18n } from '../../i18n';

const ROW = 44;
const BAR = 14;
const NAME_CHARS = 22;

function clip(name: string): string {
  const chars = [...name];
  return chars.length > NAME_CHARS ? `${chars.slice(0, NAME_CHARS - 1).join('')}…` : name;
}

/**
 * Uses per template as horizontal bars, in plain SVG. Lengths are
 * percentages of the SVG's width, so the text keeps its size at any width.
 */
export function RankingChart({ items }: { items: RankItem[] }) {
  const { t, tn } = useI18n();
  const theme = useTheme();
  const titleId = useId();
  const max = Math.max(1, ...items.map((it) => it.uses));
  const summary = items.map((it) => `${it.rank}. ${it.template.name}: ${tn('ranking.uses', it.uses)}`).join('; ');
  return (
    <Box component="figure" sx={{ m: 0 }}>
      <svg role="img" aria-labelledby={titleId} width="100%" height={items.length * ROW} style={{ display: 'block', overflow: 'visible' }}>
        <title id={titleId}>{`${t('ranking.chart')}: ${summary}`}</title>
        {items.map((it, i) => {
          const y = i * ROW;
          return (
            <g key={it.template.id}>
              <text x="0" y={y + 16} fontSize="14" fill={theme.palette.text.primary}>
                {`${it.rank}. ${clip(it.template.name)}`}
              </text>
              <text x="100%" y={y + 16} fontSize="14" fontWeight="600" textAnchor="end" fill={theme.palette.text.primary}>
                {tn('ranking.uses', it.uses)}
              </text>
              <rect x="0" y={y + 22} width="100%" height={BAR} rx={BAR / 2} fill="#e6e1f5" />
              <rect
                x="0"
                y={y + 22}
                width={`${(it.uses / max) * 100}%`}
                height={BAR}
                rx={BAR / 2}
                fill={theme.palette.primary.main}
                data-testid="ranking-bar"
              />
            </g>
          );
        })}
      </svg>
    </Box>
  );
}
