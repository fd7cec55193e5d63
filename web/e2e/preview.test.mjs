import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
