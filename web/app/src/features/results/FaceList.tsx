import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import Typography from '@mui/material/Typography';
import type { Face } from '../../api/types';
import { useI18n } from '../../i18n';
import { EXPRESSION_KEY } from '../../lib/expressions';
import { ExpressionBars } from './ExpressionBars';

export interface FaceListProps {
  faces: Face[];
  onHighlight: (index: number | null) => void;
}

/** Every face: its number (as on the picture), its expression and the seven probabilities. */
export function FaceList({ faces, onHighlight }: FaceListProps) {
  const { t } = useI18n();
  return (
    <Box
      component="ol"
      sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(min(100%, 280px), 1fr))' }}
    >
      {faces.map((f, i) => {
        const name = t('result.face', { n: i + 1 });
        return (
          <Card
            component="li"
            key={i}
            variant="outlined"
            tabIndex={0}
            onMouseEnter={() => onHighlight(i)}
            onMouseLeave={() => onHighlight(null)}
            onFocus={() => onHighlight(i)}
            onBlur={() => onHighlight(null)}
            sx={{ p: 2 }}
          >
            <Typography component="h3" variant="subtitle1" sx={{ fontWeight: 700, mb: 1 }}>
              {name} · {t(EXPRESSION_KEY[f.expression])}
            </Typography>
            <ExpressionBars probs={f.probs} label={t('result.probsOf', { face: name })} />
          </Card>
        );
      })}
    </Box>
  );
}
