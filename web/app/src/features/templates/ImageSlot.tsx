import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import Typography from '@mui/material/Typography';
import { useId, useRef } from 'react';
import type { Expression } from '../../api/types';
import { useI18n } from '../../i18n';
import { EXPRESSION_KEY } from '../../lib/expressions';
import { useObjectUrl } from '../../lib/hooks';
import { useFileDrop } from '../../lib/useFileDrop';
import { IMAGE_TYPES } from '../../lib/validation';

export interface ImageSlotProps {
  expression: Expression;
  file: File | null;
  error: string | null;
  /** Whether error is news to announce (a refused file), not a reminder. */
  errorIsNews?: boolean;
  /** The slot's Choose button, for the form to send focus to. */
  chooseRef?: (el: HTMLButtonElement | null) => void;
  onPick: (file: File) => void;
  onClear: () => void;
}

const CHECKERBOARD = 'repeating-conic-gradient(#eee 0% 25%, #fff 0% 50%) 50% / 16px 16px';

/** One of the seven class slots: choose or drop an image, see it before publishing. */
export function ImageSlot({ expression, file, error, errorIsNews = true, chooseRef, onPick, onClear }: ImageSlotProps) {
  const { t } = useI18n();
  const label = t(EXPRESSION_KEY[expression]);
  const input = useRef<HTMLInputElement>(null);
  const choose = useRef<HTMLButtonElement | null>(null);
  const setChoose = (el: HTMLButtonElement | null) => {
    choose.current = el;
    chooseRef?.(el);
  };
  const headingId = useId();
  const errorId = useId();
  const url = useObjectUrl(file);
  const { dragging, handlers } = useFileDrop(onPick);

  return (
    <Card
      component="section"
      variant="outlined"
      aria-labelledby={headingId}
      {...handlers}
      sx={{ p: 1.5, textAlign: 'center', borderColor: error ? 'error.main' : dragging ? 'primary.main' : undefined, borderWidth: dragging ? 2 : 1 }}
    >
      <Typography id={headingId} component="h3" variant="subtitle1" sx={{ fontWeight: 700 }}>
        {label}
      </Typography>
      <Box
        sx={{ width: 96, height: 96, mx: 'auto', my: 1, borderRadius: 1, background: CHECKERBOARD, display: 'grid', placeItems: 'center' }}
      >
        {url ? (
          <img src={url} alt={t('newTemplate.previewOf', { class: label })} style={{ maxWidth: 96, maxHeight: 96, objectFit: 'contain' }} />
        ) : (
          <Typography variant="caption" color="text.secondary">
            {t('newTemplate.empty')}
          </Typography>
        )}
      </Box>
      <input
        ref={input}
        type="file"
        hidden
        accept={IMAGE_TYPES.join(',')}
        aria-label={t('newTemplate.chooseFor', { class: label })}
        aria-describedby={error ? errorId : undefined}
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onPick(f);
          e.target.value = ''; // choosing the same file again still fires
        }}
      />
      <Box sx={{ display: 'flex', gap: 1, justifyContent: 'center', flexWrap: 'wrap' }}>
        <Button
          size="small"
          variant="outlined"
          ref={setChoose}
          onClick={() => input.current?.click()}
          aria-describedby={error ? errorId : undefined}
          aria-label={t(file ? 'newTemplate.replaceFor' : 'newTemplate.chooseFor', { class: label })}
        >
          {file ? t('newTemplate.replace') : t('newTemplate.choose')}
        </Button>
        {file && (
          <Button
            size="small"
            onClick={() => {
              onClear();
              choose.current?.focus(); // this button goes; Choose stays
            }}
            aria-label={t('newTemplate.clearFor', { class: label })}
          >
            {t('newTemplate.clear')}
          </Button>
        )}
      </Box>
      {error && (
        <Typography id={errorId} variant="caption" color="error" role={errorIsNews ? 'alert' : undefined} sx={{ display: 'block', mt: 1 }}>
          {error}
        </Typography>
      )}
    </Card>
  );
}
