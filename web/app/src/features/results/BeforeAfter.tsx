import Box from '@mui/material/Box';
import Slider from '@mui/material/Slider';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import { useI18n } from '../../i18n';

export interface BeforeAfterProps {
  before: string | null;
  after: string;
  width: number;
  height: number;
  afterAlt: string;
  /** Drawn over the picture, in its coordinates (face boxes). */
  overlay?: ReactNode;
  onAfterError?: () => void;
}

const tag = { position: 'absolute', top: 8, bgcolor: 'rgba(0,0,0,0.7)', color: '#fff', px: 1, borderRadius: 1, fontSize: 13 } as const;

/**
 * The uploaded photo and the result on top of each other; the slider
 * uncovers the result from the right. The frame keeps the result's
 * aspect ratio (and fits the screen), so the overlay lines up.
 */
export function BeforeAfter({ before, after, width, height, afterAlt, overlay, onAfterError }: BeforeAfterProps) {
  const { t } = useI18n();
  const [split, setSplit] = useState(50);
  const ratio = width / height;
  const cut = before ? split : 0;
  return (
    <Box>
      <Box
        sx={{
          position: 'relative',
          width: `min(100%, calc(70vh * ${ratio}))`,
          aspectRatio: `${width} / ${height}`,
          mx: 'auto',
          bgcolor: '#111',
          borderRadius: 2,
          overflow: 'hidden',
        }}
      >
        {before && (
          <Box
            component="img"
            src={before}
            alt={t('result.beforeAlt')}
            sx={{ position: 'absolute', inset: 0, width: '100%', height: '100%', objectFit: 'contain' }}
          />
        )}
        <Box
          component="img"
          src={after}
          alt={afterAlt}
          onError={onAfterError}
          sx={{ position: 'absolute', inset: 0, width: '100%', height: '100%', clipPath: `inset(0 0 0 ${cut}%)` }}
        />
        {before && (
          <>
            <Box aria-hidden sx={{ position: 'absolute', top: 0, bottom: 0, left: `${cut}%`, width: 3, ml: '-1.5px', bgcolor: '#fff', boxShadow: '0 0 4px #000' }} />
            <Box aria-hidden sx={{ ...tag, left: 8 }}>{t('result.before')}</Box>
            <Box aria-hidden sx={{ ...tag, right: 8 }}>{t('result.after')}</Box>
          </>
        )}
        {overlay}
      </Box>
      {before ? (
        <Slider
          value={split}
          onChange={(_e, v) => setSplit(v as number)}
          min={0}
          max={100}
          aria-label={t('result.compare')}
          getAriaValueText={(v) => t('result.compareValue', { percent: 100 - v })}
          sx={{ mt: 1, maxWidth: 480, display: 'block', mx: 'auto' }}
        />
      ) : (
        <Typography variant="caption" color="text.secondary" sx={{ display: 'block', mt: 1, textAlign: 'center' }}>
          {t('result.noBefore')}
        </Typography>
      )}
    </Box>
  );
}
