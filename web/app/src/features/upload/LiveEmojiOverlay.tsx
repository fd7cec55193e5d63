import Box from '@mui/material/Box';
import { useEffect, useRef, type RefObject } from 'react';
import { loadEngine, pixels } from '../../lib/previewEngine';

/** The longest side of a live frame the preview works on. */
const LIVE_SIDE = 640;

/**
 * Draws the camera's frames with the template's emoji on every face, live:
 * the front (selfie) BlazeFace model in the preview module, about 20 ms a
 * frame. A frame is skipped while the previous one is still being drawn,
 * so a slow machine shows fewer frames, never a growing lag. The measured
 * rate is exposed as data-live-fps, the mean time a frame takes to read,
 * preview and draw as data-live-ms.
 */
export function LiveEmojiOverlay({ video, emojiUrl }: { video: RefObject<HTMLVideoElement | null>; emojiUrl: string | undefined }) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let live = true;
    let frame = 0;
    (async () => {
      const [engine, emoji] = await Promise.all([loadEngine(), emojiUrl ? pixels(emojiUrl, 256) : Promise.resolve(null)]);
      const work = document.createElement('canvas');
      const ctx = work.getContext('2d', { willReadFrequently: true });
      let frames = 0;
      let busy = 0;
      let since = performance.now();
      const step = () => {
        if (!live) return;
        const v = video.current;
        const out = canvas.current;
        if (v && out && ctx && v.videoWidth > 0) {
          const t0 = performance.now();
          const k = Math.min(1, LIVE_SIDE / Math.max(v.videoWidth, v.videoHeight));
          const w = Math.round(v.videoWidth * k);
          const h = Math.round(v.videoHeight * k);
          if (work.width !== w || work.height !== h) {
            work.width = out.width = w;
            work.height = out.height = h;
          }
          ctx.drawImage(v, 0, 0, w, h);
          const img = ctx.getImageData(0, 0, w, h);
          const rgba = emoji
            ? engine.preview(img.data, w, h, emoji.data, emoji.width, emoji.height, 'front').rgba
            : img.data;
          out.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(rgba), w, h), 0, 0);
          frames++;
          const now = performance.now();
          busy += now - t0;
          if (now - since >= 1000) {
            out.dataset.liveFps = (frames / ((now - since) / 1000)).toFixed(1);
            out.dataset.liveMs = (busy / frames).toFixed(1);
            frames = 0;
            busy = 0;
            since = now;
          }
        }
        frame = requestAnimationFrame(step);
      };
      frame = requestAnimationFrame(step);
    })().catch((err: unknown) => console.warn('igemoji: live preview unavailable:', err));
    return () => {
      live = false;
      cancelAnimationFrame(frame);
    };
  }, [video, emojiUrl]);

  return (
    <Box
      component="canvas"
      ref={canvas}
      aria-hidden="true"
      data-live-preview=""
      // Over the video, mirrored like it.
      sx={{ position: 'absolute', inset: 0, width: '100%', height: '100%', objectFit: 'contain', transform: 'scaleX(-1)', borderRadius: 2, pointerEvents: 'none' }}
    />
  );
}
