// Making a template in a real browser: the session ends just as the person
// publishes; they log in again in the dialog over the page, the form is
// still filled in, and publishing then works. Then the template is deleted
// and its page says so. Also: a dead token does not keep a visitor from
// the public gallery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, samplePhoto, failureShot } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('a session that ends while publishing a template loses nothing', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await failureShot(page, 'template', async () => {
    const stamp = Date.now().toString(36);
    const me = { email: `maker-${stamp}@example.com`, alias: `maker${stamp}`, password: 'correct horse' };
    const made = await page.request.post(server.base + '/api/v1/users', { data: me });
    assert.ok(made.ok(), `seeding a user: ${made.status()} ${await made.text()}`);

    await page.goto(server.base + '/templates/new');
    // Not logged in: sent to log in, told why, and brought back.
    await page.getByText('Log in to carry on').waitFor();
    await page.getByLabel('Email').fill(me.email);
    await page.getByLabel('Password').fill(me.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'New template' }).waitFor();

    const name = `Faces ${stamp}`;
    await page.getByLabel('Name').fill(name);
    const inputs = page.locator('input[type=file]');
    assert.equal(await inputs.count(), 7);
    for (let i = 0; i < 7; i++) await inputs.nth(i).setInputFiles(samplePhoto((i % 6) + 1));
    await page.getByText('All seven images are ready.').waitFor();

    // The server refuses the token once, as it does when a session ends.
    let refused = 0;
    await page.route('**/api/v1/emojis', (route) => {
      if (route.request().method() !== 'POST' || refused++ > 0) return route.fallback();
      return route.fulfill({ status: 401, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unauthorized', message: 'Your session has expired; please log in again.' } }) });
    });
    await page.getByRole('button', { name: 'Publish' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Email').inputValue(), me.email);
    await shot(page, 'template-01-session-ended');
    // A click beside the dialog does not dismiss it.
    await page.mouse.click(5, 5);
    assert.ok(await dialog.isVisible());

    await dialog.getByLabel('Password').fill(me.password);
    await dialog.getByRole('button', { name: 'Log in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.match(page.url(), /\/templates\/new$/);
    assert.equal(await page.getByLabel('Name').inputValue(), name);
    await page.getByText('All seven images are ready.').waitFor();

    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(/\/templates\/\d+$/);
    await page.getByRole('heading', { level: 1, name }).waitFor();
    const path = new URL(page.url()).pathname;
    await shot(page, 'template-02-published');

    await page.getByRole('button', { name: 'Delete template' }).click();
    await page.getByRole('dialog', { name: 'Delete this template?' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL((u) => u.pathname !== path);
    await page.goto(server.base + path);
    await page.getByRole('heading', { level: 1, name: 'Template not found' }).waitFor();
    await page.getByRole('link', { name: 'Gallery' }).last().waitFor();
  });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a dead token does not keep a visitor from the gallery', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await context.addInitScript(() => {
    sessionStorage.setItem('igemoji.session', JSON.stringify({
      token: 'not-a-token', expiresAt: Date.now() + 3_600_000,
      user: { id: 1, email: 'gone@example.com', alias: 'gone', created_at: '2026-01-01T00:00:00Z' },
    }));
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await failureShot(page, 'dead-token', async () => {
    await page.goto(server.base + '/');
    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Not now' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(new URL(page.url()).pathname, '/');
    await page.getByRole('link', { name: /^Use this template: / }).first().waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    await shot(page, 'dead-token-gallery');
  });
  await context.close();
});
