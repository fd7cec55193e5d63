import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import type { Expression } from '../../api/types';
import { useI18n } from '../../i18n';
import { visuallyHidden } from '../../lib/a11y';
import { EXPRESSIONS, EXPRESSION_COLOR, EXPRESSION_KEY, topExpression } from '../../lib/expressions';

export interface ExpressionBarsProps {
  probs: Partial<Record<Expression, number>>;
  /** Names the list, e.g. "Face 2". */
  label: string;
}

/** The seven probabilities of one face, in class order, the most likely in bold. */
export function ExpressionBars({ probs, label }: ExpressionBarsProps) {
  const { t, formatPercent } = useI18n();
  const top = topExpression(probs);
  return (
    <Box component="ul" aria-label={label} sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 0.75 }}>
      {EXPRESSIONS.map((e) => {
        const p = Math.min(1, Math.max(0, probs[e] ?? 0));
        const isTop = e === top;
        return (
          <Box
            component="li"
            key={e}
            data-expression={e}
            sx={{ display: 'grid', gridTemplateColumns: 'minmax(5.5rem, auto) 1fr 3.75rem', alignItems: 'center', gap: 1 }}
          >
            <Typography variant="body2" sx={{ fontWeight: isTop ? 700 : 400 }}>
              {t(EXPRESSION_KEY[e])}
              {isTop && <Box component="span" sx={visuallyHidden}>{` (${t('result.mostLikely')})`}</Box>}
            </Typography>
            <Box aria-hidden sx={{ height: 10, bgcolor: '#e8e6ef', borderRadius: 5, overflow: 'hidden' }}>
              <Box sx={{ width: `${p * 100}%`, height: '100%', bgcolor: EXPRESSION_COLOR[e], borderRadius: 5 }} />
            </Box>
            <Typography variant="body2" sx={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums', fontWeight: isTop ? 700 : 400 }}>
              {formatPercent(p)}
            </Typography>
          </Box>
        );
      })}
    </Box>
  );
}
