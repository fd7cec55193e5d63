import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launch, shot, samplePhoto } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

// Choosing a photo shows the template's emoji on every face, found in the
// browser by the Go WebAssembly module, before anything is uploaded.
test('the emoji preview appears on the faces before upload', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const uploads = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/faces/tasks')) uploads.push(r.url()); });
  const wasm = [];
  page.on('response', (r) => { if (r.url().includes('/wasm/')) wasm.push({ url: r.url(), encoding: r.headers()['content-encoding'] }); });
  await page.goto(server.base + '/upload?template=1');
  await page.getByRole('heading', { level: 1, name: 'Make an emoji photo' }).waitFor();
  assert.equal(wasm.length, 0, 'the module is not loaded before a photo is chosen');

  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Choose a photo' }).click();
  await (await chooser).setFiles(samplePhoto(2));
  const canvas = page.locator('canvas[data-preview-faces]');
  await canvas.waitFor({ timeout: 30_000 });
  const faces = Number(await canvas.getAttribute('data-preview-faces'));
  const firstMs = Number(await canvas.getAttribute('data-preview-ms'));
  assert.ok(faces >= 2, `faces in the preview: got ${faces}, want at least 2`);
  await shot(page, 'preview-01-before-upload');
  assert.deepEqual(uploads, [], 'nothing is uploaded for the preview');
  assert.ok(wasm.some((w) => w.url.endsWith('igemoji.wasm') && w.encoding === 'gzip'), `the module is served gzipped: ${JSON.stringify(wasm)}`);

  // A second photo: the module is loaded, so this is the preview's own time.
  const again = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Choose another photo' }).click();
  await page.getByRole('button', { name: 'Choose a photo' }).click();
  await (await again).setFiles(samplePhoto(1));
  await page.waitForFunction(() => {
    const c = document.querySelector('canvas[data-preview-faces]');
    return c && c.width === 1280; // the preview works at 1280 px at most
  }, null, { timeout: 30_000 });
  const ms = Number(await page.locator('canvas[data-preview-faces]').getAttribute('data-preview-ms'));
  console.log(`preview: first photo ${firstMs} ms including loading the module, a 1920-px photo ${ms} ms`);
  await shot(page, 'preview-02-1920');
  await page.close();
});

// jpegSize reads the frame header of the first JPEG in buf: [width, height].
function jpegSize(buf) {
  const start = buf.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
  assert.ok(start >= 0, 'a JPEG in the upload');
  for (let p = start + 2; p + 9 < buf.length; ) {
    if (buf[p] !== 0xff) { p++; continue; }
    const m = buf[p + 1];
    if (m >= 0xc0 && m <= 0xc3) return [buf.readUInt16BE(p + 7), buf.readUInt16BE(p + 5)];
    p += 2 + buf.readUInt16BE(p + 2);
  }
  throw new Error('no JPEG frame header in the upload');
}

// Before upload the browser re-encodes the photo, which drops its metadata,
// and scales a large one down to 2048 px.
test('the photo is stripped of metadata and scaled down before upload', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const bodies = [];
  await page.route((url) => url.pathname.replace(/\/$/, '') === '/api/v1/faces/tasks', async (route) => {
    if (route.request().method() === 'POST') bodies.push(route.request().postDataBuffer());
    await route.continue();
  });
  const upload = async (file) => {
    await page.goto(server.base + '/upload?template=1');
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose a photo' }).click();
    await (await chooser).setFiles(file);
    await page.locator('canvas[data-preview-faces]').waitFor({ timeout: 30_000 });
    const n = bodies.length;
    await page.getByRole('button', { name: 'Emojify!' }).click();
    for (let i = 0; i < 100 && bodies.length === n; i++) await page.waitForTimeout(100);
    assert.equal(bodies.length, n + 1, 'one upload');
    return bodies[n];
  };

  // The demo photo carries EXIF (camera, software, GPS).
  const original = readFileSync(samplePhoto(1));
  assert.ok(original.includes(Buffer.from('Exif')), 'the fixture has EXIF');
  const sent = await upload(samplePhoto(1));
  assert.ok(!sent.includes(Buffer.from('Exif')), 'no EXIF in the upload');
  assert.deepEqual(jpegSize(sent), [1920, 1280], 'a 1920-px photo keeps its size');

  // A 3000x2000 photo, made in the page.
  const big = await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 3000;
    c.height = 2000;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 3000, 2000);
    grad.addColorStop(0, '#369');
    grad.addColorStop(1, '#fc6');
    g.fillStyle = grad;
    g.fillRect(0, 0, 3000, 2000);
    const blob = await new Promise((ok) => c.toBlob(ok, 'image/jpeg', 0.9));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  const sentBig = await upload({ name: 'big.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(big) });
  assert.deepEqual(jpegSize(sentBig), [2048, 1365], 'scaled down to 2048 px');

  // A WebP or PNG with transparent pixels goes as PNG, which keeps them;
  // an opaque one as JPEG, which is smaller.
  const made = async (type, clear) => {
    const bytes = await page.evaluate(async ([type, clear]) => {
      const c = document.createElement('canvas');
      c.width = 640;
      c.height = 480;
      const g = c.getContext('2d');
      g.fillStyle = '#3a7';
      g.fillRect(0, 0, 640, 480);
      if (clear) g.clearRect(0, 0, 320, 480);
      const blob = await new Promise((ok) => c.toBlob(ok, type, 0.9));
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    }, [type, clear]);
    return Buffer.from(bytes);
  };
  // The upload is multipart: the photo's part names its type.
  const isPNG = (b) => b.includes('Content-Type: image/png') && b.includes(Buffer.from('\x89PNG', 'latin1'));
  const isJPEG = (b) => b.includes('Content-Type: image/jpeg');
  assert.ok(isPNG(await upload({ name: 'clear.webp', mimeType: 'image/webp', buffer: await made('image/webp', true) })), 'a transparent WebP goes as PNG');
  assert.ok(isPNG(await upload({ name: 'clear.png', mimeType: 'image/png', buffer: await made('image/png', true) })), 'a transparent PNG goes as PNG');
  assert.ok(isJPEG(await upload({ name: 'opaque.png', mimeType: 'image/png', buffer: await made('image/png', false) })), 'an opaque PNG goes as JPEG');
  await page.close();
});
