/**
 * The in-browser preview engine: the Go module in /wasm (built from the
 * repository's wasm/ folder), loaded on first use only, so that pages
 * without an upload never pay for it. It finds the faces with the same
 * BlazeFace weights the worker uses and pastes an emoji with the worker's
 * own compositing code.
 */

export interface PreviewFace {
  box: [number, number, number, number];
  score: number;
  roll: number;
}

/** Model names: "back" (group photos, the worker's model) or "front" (selfies, the webcam: faster). */
export type ModelName = 'back' | 'front';

interface Engine {
  load(model: Uint8Array, name?: ModelName): void;
  detect(rgba: Uint8ClampedArray, w: number, h: number, name?: ModelName): PreviewFace[];
  preview(
    rgba: Uint8ClampedArray,
    w: number,
    h: number,
    emoji: Uint8ClampedArray,
    ew: number,
    eh: number,
    name?: ModelName,
  ): { faces: PreviewFace[]; rgba: Uint8ClampedArray };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

declare global {
  // Defined by Go's wasm_exec.js and by the module.
  // eslint-disable-next-line no-var
  var Go: new () => { importObject: WebAssembly.Imports; run(instance: WebAssembly.Instance): Promise<void> };
  // eslint-disable-next-line no-var
  var igemoji: Engine | undefined;
}

let loading: Promise<Engine> | null = null;

function script(src: string): Promise<void> {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => ok();
    s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

/** loadEngine loads the module and the model once; later calls share it. */
export function loadEngine(base = '/wasm/'): Promise<Engine> {
  loading ??= (async () => {
    if (!globalThis.Go) await script(base + 'wasm_exec.js');
    const go = new globalThis.Go();
    const [wasm, back, front] = await Promise.all([
      WebAssembly.instantiateStreaming(fetch(base + 'igemoji.wasm'), go.importObject),
      fetchBytes(base + 'blazeface.onnx'),
      fetchBytes(base + 'blazeface-front.onnx'),
    ]);
    void go.run(wasm.instance); // serves calls for the page's lifetime
    const engine = globalThis.igemoji;
    if (!engine) throw new Error('the preview module did not start');
    engine.load(back, 'back');
    engine.load(front, 'front');
    return engine;
  })();
  loading.catch(() => (loading = null)); // a later try may succeed
  return loading;
}

/** pixels draws an image, scaled to at most maxSide, and reads its RGBA. */
export async function pixels(src: Blob | string, maxSide: number): Promise<ImageData> {
  const blob = typeof src === 'string' ? await (await fetch(src)).blob() : src;
  const bmp = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const k = Math.min(1, maxSide / Math.max(bmp.width, bmp.height));
  const w = Math.max(1, Math.round(bmp.width * k));
  const h = Math.max(1, Math.round(bmp.height * k));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas');
  ctx.drawImage(bmp, 0, 0, w, h);
  bmp.close();
  return ctx.getImageData(0, 0, w, h);
}

const emojiCache = new Map<string, Promise<ImageData>>();

/** emojiPixels is pixels(url, 512), fetched and decoded once per emoji. */
export function emojiPixels(url: string): Promise<ImageData> {
  let p = emojiCache.get(url);
  if (!p) {
    p = pixels(url, 512);
    p.catch(() => emojiCache.delete(url)); // a later try may succeed
    emojiCache.set(url, p);
  }
  return p;
}

/** transparent reports whether any pixel drawn on g is not fully opaque. */
function transparent(g: CanvasRenderingContext2D, w: number, h: number): boolean {
  const px = g.getImageData(0, 0, w, h).data;
  for (let i = 3; i < px.length; i += 4) if (px[i] !== 255) return true;
  return false;
}

/** The longest side a photo is sent at (the server caps results at 4096). */
export const UPLOAD_MAX_SIDE = 2048;

/**
 * prepareUpload scales a photo down to maxSide and re-encodes it (JPEG, or
 * PNG where a PNG or WebP has transparent pixels, which the result keeps),
 * which also drops its metadata (location, camera): less to send, nothing
 * private to leak. The browser applies the EXIF orientation while decoding
 * and turns the colours into sRGB on the canvas. If the browser cannot, the
 * original file goes as it is; the server strips metadata from results anyway.
 */
export async function prepareUpload(file: File, maxSide = UPLOAD_MAX_SIDE): Promise<File> {
  try {
    const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const k = Math.min(1, maxSide / Math.max(bmp.width, bmp.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bmp.width * k));
    canvas.height = Math.max(1, Math.round(bmp.height * k));
    const g = canvas.getContext('2d');
    g?.drawImage(bmp, 0, 0, canvas.width, canvas.height);
    bmp.close();
    // Only PNG and WebP can be transparent; JPEG would turn it black.
    const png = (file.type === 'image/png' || file.type === 'image/webp') && !!g && transparent(g, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((ok) => canvas.toBlob(ok, png ? 'image/png' : 'image/jpeg', 0.92));
    if (!blob) return file;
    const name = (file.name || 'photo').replace(/\.[^.]*$/, '') + (png ? '.png' : '.jpg');
    return new File([blob], name, { type: blob.type });
  } catch {
    return file;
  }
}
