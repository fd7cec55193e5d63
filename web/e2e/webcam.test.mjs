// The webcam path, with Chromium's fake camera (a moving test pattern, no
// faces): start the camera, take a snapshot, emojify it, and land on a
// result that says no faces were found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('a webcam snapshot goes through to a result with no faces', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Keep the camera streams the page gets, to check they are stopped; the
  // camera is asked for 640x480, the stream the live preview is measured on.
  await page.addInitScript(() => {
    const streams = (window.__streams = []);
    const md = navigator.mediaDevices;
    const get = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      if (c?.video) c = { ...c, video: { ...(typeof c.video === 'object' ? c.video : {}), width: { exact: 640 }, height: { exact: 480 } } };
      const s = await get(c);
      streams.push(s);
      return s;
    };
  });

  // Anonymous: open the upload page and pick a template there.
  await page.goto(server.base + '/upload');
  await page.getByRole('heading', { level: 1, name: 'Make an emoji photo' }).waitFor();
  await page.getByText('Choose a template first.').waitFor();
  const select = page.getByLabel('Template', { exact: true });
  await page.waitForFunction((el) => el.options.length > 1, await select.elementHandle());
  await select.selectOption({ index: 1 });
  await page.waitForURL(/\/upload\?template=\d+$/);
  await page.getByText('Choose a template first.').waitFor({ state: 'detached' });

  // Start the camera.
  await page.getByRole('button', { name: 'Use the camera' }).click();
  const video = page.getByLabel('Camera view');
  await video.waitFor();
  const capture = page.getByRole('button', { name: 'Take the photo' });
  await page.waitForFunction((el) => !el.disabled, await capture.elementHandle());
  await page.waitForFunction((v) => v.videoWidth > 0 && v.readyState >= 2 && v.currentTime > 0, await video.elementHandle());
  const size = await video.evaluate((v) => [v.videoWidth, v.videoHeight]);
  assert.equal(await page.evaluate(() => window.__streams.length), 1, 'one camera stream');
  assert.equal(await page.evaluate(() => window.__streams[0].getVideoTracks()[0].readyState), 'live');
  // The live preview: every frame through the preview module (front model),
  // drawn over the video. Its rate is printed (the README and the issue
  // want 10 frames a second or more), not asserted: a timed assertion would
  // fail on a busy machine for no fault of the code.
  const live = page.locator('canvas[data-live-preview]');
  await page.waitForFunction(() => Number(document.querySelector('canvas[data-live-preview]')?.dataset.liveFps) > 0, null, { timeout: 20_000 });
  await page.waitForTimeout(2_000);
  const fps = Number(await live.getAttribute('data-live-fps'));
  const frameMs = Number(await live.getAttribute('data-live-ms'));
  const frame = await live.evaluate((c) => [c.width, c.height]);
  console.log(`webcam: live preview ${fps} frames/s, ${frameMs} ms a frame, at ${frame[0]}x${frame[1]} (camera ${size[0]}x${size[1]})`);
  assert.deepEqual(size, [640, 480], 'the camera stream');
  assert.ok(fps > 0, `live preview: got ${fps} frames/s, want frames drawn`);
  await shot(page, 'webcam-01-camera');

  // Take the snapshot: the preview replaces the camera, which is turned off.
  await capture.click();
  // The in-browser preview draws the snapshot (and the emoji on any face)
  // on a canvas at the snapshot's size.
  const preview = page.getByRole('img', { name: 'The photo you chose' });
  await preview.waitFor();
  await page.locator('canvas[data-preview-faces]').waitFor({ timeout: 30_000 });
  // The preview says what it found, and a photo without faces is not "0 faces found".
  const found = Number(await page.locator('canvas[data-preview-faces]').getAttribute('data-preview-faces'));
  await page
    .getByText(found === 0 ? /^Preview: no faces found here\./ : new RegExp(`^Preview: ${found} faces? found\\.`))
    .waitFor({ timeout: 5_000 });
  assert.deepEqual(await preview.evaluate((el) => [el.width, el.height]), size, 'the snapshot has the camera resolution');
  assert.equal(await video.count(), 0);
  await page.waitForFunction(() => window.__streams.every((s) => s.getTracks().every((t) => t.readyState === 'ended')));
  await shot(page, 'webcam-02-snapshot');

  // Emojify it (a multipart upload; Playwright does not expose blob bodies).
  const upload = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/faces/tasks'));
  await page.getByRole('button', { name: 'Emojify!' }).click();
  const created = await upload;
  assert.match(created.request().headers()['content-type'], /^multipart\/form-data/);
  assert.ok(created.ok(), `the upload was accepted: ${created.status()}`);

  // The result. Chromium's fake camera shows a moving test pattern, which
  // the detector now and then takes for a face: either way the page must
  // say what it found, and show no face boxes when there are none.
  await page.waitForURL(/\/results\/[^/]+$/, { timeout: 60_000 });
  await page.getByRole('heading', { level: 1, name: 'Your result' }).waitFor();
  const summary = page.getByText(/^(No faces found\.|\d+ faces? found\.)$/);
  await summary.waitFor();
  const said = await summary.textContent();
  const afterImg = page.getByRole('img', { name: `The photo with emoji. ${said}` });
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await afterImg.elementHandle());
  assert.deepEqual(await afterImg.evaluate((el) => [el.naturalWidth, el.naturalHeight]), size);
  await page.getByRole('img', { name: 'The photo before' }).waitFor();
  if (said === 'No faces found.') {
    assert.equal(await page.getByTestId('face-box').count(), 0);
    assert.equal(await page.getByLabel('Show face boxes').count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Faces' }).count(), 0);
  } else {
    console.log(`webcam: the fake camera's pattern was read as: ${said}`);
  }
  await page.getByRole('link', { name: 'Download' }).waitFor();
  await shot(page, 'webcam-03-result-no-faces');

  assert.deepEqual(errors, [], 'no uncaught errors in the page');
  await context.close();
});
