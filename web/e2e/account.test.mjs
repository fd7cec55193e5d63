// My page's account settings in a real browser: the password is changed
// (this tab stays logged in, older tokens die); then "Delete account" asks
// the password again, refuses a wrong one in place, deletes the account,
// its results and its templates, logs out and says so on the home page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launch, shot, samplePhoto, failureShot } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('a person deletes their account from My page', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await failureShot(page, 'account', async () => {
    const stamp = Date.now().toString(36);
    const me = { email: `leaver-${stamp}@example.com`, alias: `leaver${stamp}`, password: 'correct horse' };
    assert.ok((await page.request.post(server.base + '/api/v1/users', { data: me })).ok(), 'seeding a user');
    const auth = await (await page.request.post(server.base + '/api/v1/users/auth', { data: { email: me.email, password: me.password } })).json();
    // A result of theirs, made through the API.
    const task = await page.request.post(server.base + '/api/v1/faces/tasks', {
      headers: { Authorization: `Bearer ${auth.access_token}` },
      multipart: { template_id: '1', image: { name: 'p.jpg', mimeType: 'image/jpeg', buffer: readFileSync(samplePhoto(2)) } },
    });
    assert.equal(task.status(), 202);
    const taskId = (await task.json()).task_id;

    await page.goto(server.base + '/login');
    await page.getByLabel('Email').fill(me.email);
    await page.getByLabel('Password').fill(me.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My page' }).click();
    await page.getByRole('heading', { level: 2, name: 'Delete account' }).waitFor();

    // Change the password first: this tab stays logged in, the old token dies.
    const change = page.getByRole('region', { name: 'Change password' });
    await change.getByLabel('Current password').fill(me.password);
    await change.getByLabel('New password').fill('battery staple');
    await change.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password has been changed.').waitFor();
    await shot(page, 'account-00-password-changed');
    const old = await page.request.get(server.base + '/api/v1/users/me', { headers: { Authorization: `Bearer ${auth.access_token}` } });
    assert.equal(old.status(), 401, 'the token from before the change is refused');
    me.password = 'battery staple';

    const open = page.getByRole('button', { name: 'Delete account' });
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Delete my account' });
    assert.ok(await confirm.isDisabled(), 'nothing typed: the button waits');
    const password = dialog.getByLabel('Password');
    await password.fill('wrong horse');
    await confirm.click();
    await dialog.getByText('The password is incorrect.').waitFor();
    assert.equal(await password.inputValue(), 'wrong horse', 'what was typed stays');
    await shot(page, 'account-01-wrong-password');

    await password.fill(me.password);
    await confirm.click();
    await page.waitForURL(server.base + '/');
    await page.getByText('Your account has been deleted').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).waitFor();
    await shot(page, 'account-02-deleted');

    // Gone: the log-in, the result.
    const again = await page.request.post(server.base + '/api/v1/users/auth', { data: { email: me.email, password: me.password } });
    assert.equal(again.status(), 401);
    assert.equal((await page.request.get(server.base + `/api/v1/faces/tasks/${taskId}`)).status(), 404);
  });

  assert.deepEqual(errors, [], 'no uncaught errors in the page');
  await context.close();
});
