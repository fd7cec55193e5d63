// The whole journey in one browser session: sign up, pick a template,
// upload a real group photo, follow the progress (WebSocket) to the
// result, share it, see the public share page, find it on My page,
// delete it, log out. Korean is switched on once along the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, samplePhoto, recordProgress, progressSeen, failureShot } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('sign up, emojify a group photo, share, find it on My page, delete, log out', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await recordProgress(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  // Watch the WebSocket the progress comes over.
  const sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), sent: [], frames: [] };
    ws.on('framesent', (f) => s.sent.push(String(f.payload)));
    ws.on('framereceived', (f) => s.frames.push(String(f.payload)));
    sockets.push(s);
  });

  await failureShot(page, 'journey', async () => {
    const stamp = Date.now().toString(36);
    const taken = { email: `taken-${stamp}@example.com`, alias: `taken${stamp}`, password: 'correct horse' };
    const me = { email: `journey-${stamp}@example.com`, alias: `journey${stamp}`, password: 'battery staple' };

    // Someone already has an account: the live check must say so.
    const made = await page.request.post(server.base + '/api/v1/users', { data: taken });
    assert.ok(made.ok(), `seeding a user: ${made.status()} ${await made.text()}`);

    // --- Sign up, with the live "is this taken?" check.
    await page.goto(server.base + '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign up' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign up' }).waitFor();
    const email = page.getByLabel('Email');
    const alias = page.getByLabel('Alias (shown to others)');
    await email.fill(taken.email);
    await alias.fill(taken.alias);
    await page.getByText('Already taken.').waitFor();
    await page.getByText('Taken, or too much like one that is.').waitFor();
    await shot(page, 'journey-01-signup-taken');

    await email.fill(me.email);
    await alias.fill(me.alias);
    await page.getByLabel('Password').fill(me.password);
    await page.getByText('Available.').nth(1).waitFor();
    assert.equal(await page.getByText(/^(Already taken|Taken, or)/).count(), 0);
    await shot(page, 'journey-02-signup-available');
    await page.getByRole('button', { name: 'Create account' }).click();

    // Sign-up logs in too; log in by hand if it did not.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.waitForURL((u) => u.pathname !== '/signup');
    const loggedIn = await nav.getByRole('link', { name: 'My page' }).waitFor({ timeout: 5_000 }).then(() => true, () => false);
    if (!loggedIn) {
      await page.goto(server.base + '/login');
      await page.getByLabel('Email').fill(me.email);
      await page.getByLabel('Password').fill(me.password);
      await page.getByRole('button', { name: 'Log in' }).click();
    }
    await nav.getByRole('link', { name: 'My page' }).waitFor();
    await nav.getByRole('button', { name: 'Log out' }).waitFor();
    // Who is logged in shows beside the wide nav at every width that has it.
    for (const width of [900, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.getByRole('banner').getByText(me.alias, { exact: true }).waitFor({ state: 'visible' });
    }

    // --- Pick a template from the gallery.
    await page.goto(server.base + '/');
    const use = page.getByRole('link', { name: /^Use this template: / }).first();
    await use.waitFor();
    const templateName = (await use.getAttribute('aria-label')).replace('Use this template: ', '');
    await shot(page, 'journey-03-gallery-logged-in');
    await use.click();
    await page.waitForURL(/\/upload\?template=\d+/);
    await page.getByRole('heading', { level: 1, name: 'Make an emoji photo' }).waitFor();
    const select = page.getByLabel('Template', { exact: true });
    // The chosen template is preselected in the picker.
    await page.waitForFunction(([el, name]) => el.selectedOptions[0]?.textContent === name, [await select.elementHandle(), templateName]);

    // --- Upload samplePhoto(2) through the file picker.
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose a photo' }).click();
    await (await chooser).setFiles(samplePhoto(2));
    await page.getByRole('img', { name: 'The photo you chose' }).waitFor();
    await shot(page, 'journey-04-upload-chosen');

    await page.getByRole('button', { name: 'Emojify!' }).click();
    // The bar shows while the task runs; a quick worker can finish before
    // it is seen (the handoff test follows the bar step by step).
    const bar = page.getByRole('progressbar', { name: 'Progress' });
    const sawBar = await Promise.race([
      bar.waitFor({ timeout: 10_000 }).then(() => true, () => false),
      page.waitForURL(/\/results\/[^/]+$/, { timeout: 10_000 }).then(() => false, () => false),
    ]);
    if (sawBar) await shot(page, 'journey-05-progress');

    // --- The result page.
    await page.waitForURL(/\/results\/[^/]+$/, { timeout: 60_000 });
    const taskId = new URL(page.url()).pathname.split('/').pop();
    await page.getByRole('heading', { level: 1, name: 'Your result' }).waitFor();
    const summary = page.getByText(/^\d+ faces? found\.$/);
    await summary.waitFor();
    const faceCount = Number((await summary.textContent()).match(/\d+/)[0]);
    assert.ok(faceCount >= 2, `expected at least 2 faces, got ${faceCount}`);

    // Progress came over the WebSocket: subscribed and got task events for this task.
    // (The gallery's live ranking has its own anonymous socket.)
    const ws = sockets.find((s) => s.sent.some((f) => f.includes('"topic":"task"') && f.includes(taskId)));
    assert.ok(ws, `a WebSocket subscribed to the task; sockets: ${JSON.stringify(sockets.map((s) => [s.url, s.sent]))}`);
    assert.ok(ws.url.includes('token='), 'the logged-in socket carries the token');
    const events = ws.frames.map((f) => { try { return JSON.parse(f); } catch { return {}; } }).filter((m) => m.task_id === taskId);
    assert.ok(events.some((m) => m.type === 'task.done'), `task.done over the socket; got ${events.map((m) => m.type)}`);
    // On the upload page, the bar moved forward only and reached 100%.
    const [seen, ...later] = await progressSeen(page);
    console.log(`journey: progress bar showed ${seen.join(' → ')}${later.map((b) => `, then a new bar ${b.join(' → ')}`).join('')}; socket events ${events.map((m) => m.type + (m.percent != null ? ` ${m.percent}` : '')).join(', ')}`);
    assert.equal(seen.at(-1), 100, `the bar reached 100%: ${seen}`);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'the bar never went back');

    // Before and after, both loaded.
    const beforeImg = page.getByRole('img', { name: 'The photo before' });
    const afterImg = page.getByRole('img', { name: /^The photo with emoji\./ });
    await beforeImg.waitFor();
    await afterImg.waitFor();
    for (const img of [beforeImg, afterImg]) {
      await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    }
    await page.getByRole('slider', { name: 'Before and after' }).waitFor();
    // Face boxes over the picture, one per face.
    assert.equal(await page.getByTestId('face-box').count(), faceCount);
    assert.ok(await page.getByLabel('Show face boxes').isChecked());
    // One card per face, each with seven expression bars.
    await page.getByRole('heading', { level: 2, name: 'Faces' }).waitFor();
    for (let i = 1; i <= faceCount; i++) {
      const bars = page.getByRole('list', { name: `Expression probabilities of Face ${i}` });
      assert.equal(await bars.getByRole('listitem').count(), 7, `face ${i} has seven bars`);
      await assert.doesNotReject(bars.getByText(/\(most likely\)/).waitFor({ state: 'attached' }));
    }
    // Download link to the picture.
    const download = page.getByRole('link', { name: 'Download' });
    assert.match(await download.getAttribute('download'), /^igemoji-[\w-]{8}\.\w+$/);
    const href = await download.getAttribute('href');
    const got = await page.request.get(new URL(href, server.base).toString());
    assert.equal(got.status(), 200);
    assert.match(got.headers()['content-type'], /^image\//);
    await shot(page, 'journey-06-result');

    // --- Share: the /s/ link.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
    await page.getByRole('button', { name: 'Share' }).click();
    const linkField = page.getByLabel('Share link');
    await linkField.waitFor();
    const shareUrl = await linkField.inputValue();
    assert.match(shareUrl, /\/s\/[\w-]+$/);
    await page.getByRole('status').filter({ hasText: /Link copied\.|copy it with Ctrl\+C/ }).waitFor();
    await page.getByRole('button', { name: 'Stop sharing' }).waitFor();
    await shot(page, 'journey-07-shared');

    // The public share page, in a fresh page of a logged-out context.
    const visitor = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    const sharePage = await visitor.newPage();
    const res = await sharePage.goto(shareUrl);
    assert.equal(res.status(), 200);
    const ogImage = await sharePage.locator('meta[property="og:image"]').getAttribute('content');
    assert.equal(ogImage, shareUrl + '/image');
    assert.equal(await sharePage.locator('meta[property="og:url"]').getAttribute('content'), shareUrl);
    assert.equal(await sharePage.locator('meta[name="twitter:card"]').getAttribute('content'), 'summary_large_image');
    const shared = sharePage.getByRole('img', { name: 'A photo with an emoji on every face' });
    await sharePage.waitForFunction((el) => el.complete && el.naturalWidth > 0, await shared.elementHandle());
    await sharePage.getByText(`${faceCount} faces, ${faceCount} emoji.`).waitFor();
    const ogRes = await sharePage.request.get(ogImage);
    assert.equal(ogRes.status(), 200);
    assert.match(ogRes.headers()['content-type'], /^image\//);
    await shot(sharePage, 'journey-08-share-page');
    await visitor.close();

    // --- Korean, once: the html lang follows.
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByRole('group', { name: 'Language' }).getByRole('button', { name: '한국어' }).click();
    await page.waitForFunction(() => document.documentElement.lang === 'ko');
    await page.getByRole('navigation', { name: '주 메뉴' }).getByRole('link', { name: '마이페이지' }).waitFor();
    await shot(page, 'journey-09-result-korean');
    await page.getByRole('group', { name: '언어' }).getByRole('button', { name: 'English' }).click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');

    // --- My page lists the result (shared); delete it there.
    await nav.getByRole('link', { name: 'My page' }).click();
    await page.getByRole('heading', { level: 1, name: `${me.alias}’s page` }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'My results' }).getAttribute('aria-selected'), 'true');
    const card = page.getByRole('tabpanel').getByRole('listitem');
    await card.first().waitFor();
    assert.equal(await card.count(), 1);
    await assert.doesNotReject(card.getByText(`${faceCount} faces · shared`).waitFor());
    assert.equal(await card.getByRole('link', { name: /^Result of / }).getAttribute('href'), `/results/${taskId}`);
    const thumb = card.locator('img');
    await thumb.scrollIntoViewIfNeeded();
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
    await shot(page, 'journey-10-my-page');

    await card.getByRole('button', { name: /^Delete the result of / }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this result?' });
    await dialog.waitFor();
    await shot(page, 'journey-11-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('No results yet.').waitFor();
    await shot(page, 'journey-12-my-page-empty');

    // Gone for good: the result and its share link.
    assert.equal((await page.request.get(shareUrl)).status(), 404);
    await page.goto(server.base + `/results/${taskId}`);
    await page.getByText('This result does not exist, or it is not yours.').waitFor();

    // --- Log out.
    await nav.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(server.base + '/');
    await nav.getByRole('link', { name: 'Log in' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'My page' }).count(), 0);
    await page.goto(server.base + '/me');
    await page.waitForURL(/\/login/);
    await shot(page, 'journey-13-logged-out');

  });

  assert.deepEqual(errors, [], 'no uncaught errors in the page');
  await context.close();
});

// When the socket says task.done, the upload page goes to the result page
// at once. The fresh copy of the task is delayed here, as over a slow
// network: the result page must show the result from what the socket said,
// never a new progress bar from 0%.
test('the result page does not restart the progress after the upload page reached 100%', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await recordProgress(page);
  // Reads of the task after the first one answer 1.5 s late (a slow network).
  let reads = 0;
  await page.route(/\/api\/v1\/faces\/tasks\/[0-9a-f]{32}$/, async (route) => {
    if (route.request().method() === 'GET' && ++reads >= 2) await new Promise((ok) => setTimeout(ok, 1500));
    await route.continue();
  });
  await failureShot(page, 'handoff', async () => {
    await page.goto(server.base + '/');
    await page.getByRole('link', { name: /^Use this template: / }).first().click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose a photo' }).click();
    await (await chooser).setFiles(samplePhoto(4));
    await page.getByRole('button', { name: 'Emojify!' }).click();
    await page.waitForURL(/\/results\/[^/]+$/, { timeout: 60_000 });
    const stale = page.getByRole('progressbar', { name: 'Progress' });
    if (await stale.isVisible()) await shot(page, 'handoff-result-page-progress-again');
    await page.getByText(/^(\d+ faces? found|No faces found)\.$/).waitFor();
    const [upload, ...later] = await progressSeen(page);
    const result = later.flat();
    console.log(`handoff: bar ${upload.join(' → ')} on /upload, then ${later.map((b) => `a new bar ${b.join(' → ')}`).join(', ') || 'no bar'} on the result page`);
    assert.equal(upload.at(-1), 100);
    assert.ok(result.every((v) => v === 100), `the result page's bar went back to ${result.join(' → ')} after 100%`);
  });
  await context.close();
});
