import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState } from 'react';
import { useGetTemplateQuery } from '../../api/emojis';
import { useI18n } from '../../i18n';
import { useObjectUrl } from '../../lib/hooks';
import { emojiPixels, loadEngine, pixels } from '../../lib/previewEngine';

/**
 * The longest side the preview works on: more than the page shows it at
 * (at most the window's width) and enough for every face the full-frame
 * pass finds, at a third of a 1920-px photo's pixels to read, copy and
 * draw.
 */
export const PREVIEW_MAX_SIDE = 1280;

type Status = { kind: 'working' } | { kind: 'done'; faces: number; ms: number } | { kind: 'unavailable' };

/**
 * Before anything is uploaded: the chosen photo with the template's emoji
 * on every face, found in the browser. The expression is read after upload,
 * so the preview shows the template's neutral emoji.
 */
export function EmojiPreview({ photo, templateId, alt }: { photo: File; templateId: number | null; alt: string }) {
  const { t, tn } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [status, setStatus] = useState<Status>({ kind: 'working' });
  const { data: template } = useGetTemplateQuery(templateId ?? 0, { skip: templateId === null });
  const emojiUrl = template?.images.neutral;
  // Without WebAssembly (or if the module fails), the plain photo.
  const plain = useObjectUrl(status.kind === 'unavailable' ? photo : null);

  useEffect(() => {
    let live = true;
    setStatus({ kind: 'working' });
    (async () => {
      const start = performance.now();
      const [engine, img, emoji] = await Promise.all([
        loadEngine(),
        pixels(photo, PREVIEW_MAX_SIDE),
        emojiUrl ? emojiPixels(emojiUrl) : Promise.resolve(null),
      ]);
      let out: { faces: unknown[]; rgba: Uint8ClampedArray };
      if (emoji) {
        out = engine.preview(img.data, img.width, img.height, emoji.data, emoji.width, emoji.height);
      } else {
        out = { faces: engine.detect(img.data, img.width, img.height), rgba: img.data };
      }
      if (!live || !canvas.current) return;
      canvas.current.width = img.width;
      canvas.current.height = img.height;
      canvas.current.getContext('2d')?.putImageData(new ImageData(out.rgba as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
      setStatus({ kind: 'done', faces: out.faces.length, ms: Math.round(performance.now() - start) });
    })().catch((err: unknown) => {
      console.warn('igemoji: preview unavailable:', err);
      if (live) setStatus({ kind: 'unavailable' });
    });
    return () => {
      live = false;
    };
  }, [photo, emojiUrl]);

  if (status.kind === 'unavailable') {
    return (
      <Box component="img" src={plain ?? undefined} alt={alt} sx={{ display: 'block', maxWidth: '100%', maxHeight: 420, borderRadius: 2, mb: 1 }} />
    );
  }
  return (
    <Box>
      <Box
        component="canvas"
        ref={canvas}
        role="img"
        aria-label={alt}
        data-preview-faces={status.kind === 'done' ? status.faces : undefined}
        data-preview-ms={status.kind === 'done' ? status.ms : undefined}
        sx={{ display: 'block', maxWidth: '100%', maxHeight: 420, borderRadius: 2, mb: 1 }}
      />
      <Typography variant="body2" color="text.secondary" role="status">
        {status.kind === 'working' && t('preview.working')}
        {status.kind === 'done' && (status.faces === 0 ? t('preview.none') : tn('preview.done', status.faces))}
      </Typography>
    </Box>
  );
}
