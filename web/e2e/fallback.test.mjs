// WebSockets blocked (a proxy that refuses upgrades, a strict firewall):
// the progress must still reach the result by polling the task over HTTP,
// and no WebSocket may ever open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, samplePhoto, recordProgress, progressSeen } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

// Two ways a socket can be blocked, put in place before any page script runs.
const blockers = {
  // new WebSocket(...) throws, as it does for a URL the browser refuses.
  throws: () => {
    window.__wsAttempts = [];
    window.WebSocket = class BlockedWebSocket {
      static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
      constructor(url) {
        window.__wsAttempts.push(String(url));
        throw new DOMException('WebSockets are blocked here', 'SecurityError');
      }
    };
  },
  // It constructs, then fails at once: 'error' and 'close' (1006), never 'open'.
  fails: () => {
    window.__wsAttempts = [];
    window.WebSocket = class FailingWebSocket extends EventTarget {
      static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
      CONNECTING = 0; OPEN = 1; CLOSING = 2; CLOSED = 3;
      onopen = null; onmessage = null; onerror = null; onclose = null;
      readyState = 0; binaryType = 'blob'; bufferedAmount = 0; extensions = ''; protocol = '';
      constructor(url) {
        super();
        this.url = String(url);
        window.__wsAttempts.push(this.url);
        setTimeout(() => {
          this.readyState = 3;
          const error = new Event('error');
          this.onerror?.(error);
          this.dispatchEvent(error);
          const close = new CloseEvent('close', { code: 1006, reason: '', wasClean: false });
          this.onclose?.(close);
          this.dispatchEvent(close);
        }, 0);
      }
      send() { throw new DOMException('not open', 'InvalidStateError'); }
      close() { this.readyState = 3; }
    };
  },
};

async function uploadAndFollow({ blocker, name, photo, login }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const opened = [];
  page.on('websocket', (ws) => opened.push(ws.url()));
  const taskReads = [];
  const readStates = []; // the task's state in each read's answer, in order
  const isTaskRead = (r) => r.method() === 'GET' && /\/api\/v1\/faces\/tasks\/[^/]+$/.test(new URL(r.url()).pathname);
  page.on('request', (r) => {
    if (isTaskRead(r)) taskReads.push(new URL(page.url()).pathname);
  });
  page.on('response', (r) => {
    if (isTaskRead(r.request())) readStates.push(r.json().then((t) => t.state, () => 'unreadable'));
  });
  await page.addInitScript(blockers[blocker]);
  await recordProgress(page);

  if (login) {
    const stamp = Date.now().toString(36);
    const user = { email: `poll-${stamp}@example.com`, alias: `poll${stamp}`, password: 'polling please' };
    const made = await page.request.post(server.base + '/api/v1/users', { data: user });
    assert.ok(made.ok(), `seeding a user: ${made.status()}`);
    await page.goto(server.base + '/login');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My page' }).waitFor();
  }

  // The gallery still shows (its live ranking cannot connect either).
  await page.goto(server.base + '/');
  const use = page.getByRole('link', { name: /^Use this template: / }).first();
  await use.click();
  await page.waitForURL(/\/upload\?template=\d+/);
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Choose a photo' }).click();
  await (await chooser).setFiles(photo);
  await page.getByRole('img', { name: 'The photo you chose' }).waitFor();
  await page.getByRole('button', { name: 'Emojify!' }).click();

  // The bar says it is polling, then the result comes; a task a fast
  // worker finished before the first read goes straight to the result.
  const resultPage = /\/results\/[^/]+$/;
  const label = page.getByTestId('transport').filter({ hasText: 'Live updates unavailable: checking every few seconds' });
  const sawLabel = await Promise.race([
    // (The loser may still be waiting when the page closes: its
    // rejection then must not escape.)
    label.waitFor({ timeout: 60_000 }).then(() => true, () => false),
    page.waitForURL(resultPage, { timeout: 60_000 }).then(() => false, () => false),
  ]);
  if (sawLabel && !resultPage.test(page.url())) {
    await page.getByRole('progressbar', { name: 'Progress' }).waitFor({ state: 'attached' });
    await shot(page, `${name}-01-polling`);
  }
  await page.waitForURL(resultPage, { timeout: 60_000 });
  await page.getByRole('heading', { level: 1, name: 'Your result' }).waitFor();
  const summary = page.getByText(/^(\d+ faces? found|No faces found)\.$/);
  await summary.waitFor();
  const afterImg = page.getByRole('img', { name: /^The photo with emoji\./ });
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await afterImg.elementHandle());
  await shot(page, `${name}-02-result`);

  const [seen, ...later] = await progressSeen(page);
  const attempts = await page.evaluate(() => window.__wsAttempts);
  console.log(`${name}: ${await summary.textContent()} bar ${seen.join(' → ')}; task reads over HTTP from ${taskReads.join(', ')}; ${attempts.length} socket attempts, ${opened.length} opened`);
  assert.equal(seen.at(-1), 100, `the bar reached 100%: ${seen}`);
  assert.deepEqual(later, [], 'the result page showed no second progress bar');
  // One read at once, then more by polling until one shows the end, all
  // before the result page. A fast worker may have finished before that
  // first read: then there is nothing to poll for.
  const states = await Promise.all(readStates);
  const polled = taskReads.filter((p) => p === '/upload').length;
  const doneAtOnce = ['done', 'failed'].includes(states[0]);
  console.log(`${name}: task states read: ${states.join(', ')}`);
  assert.ok(polled >= 2 || (polled === 1 && doneAtOnce), `the task was polled over HTTP from the upload page until it ended: ${taskReads}; states ${states}`);
  if (polled >= 2) assert.ok(!doneAtOnce, `polled on after the first read showed the end: ${states}`);
  assert.ok(sawLabel || doneAtOnce, 'the page said it was polling while the task ran');
  assert.ok(attempts.some((u) => /\/api\/v1\/ws(\?|$)/.test(u)), `the app tried a socket: ${attempts}`);
  if (login) assert.ok(attempts.some((u) => u.includes('token=')), 'the logged-in attempt carried the token');
  assert.deepEqual(opened, [], 'no WebSocket was opened');
  assert.deepEqual(errors, [], 'no uncaught errors in the page');
  await context.close();
}

test('anonymous, new WebSocket() throws: polling brings the result', () =>
  uploadAndFollow({ blocker: 'throws', name: 'fallback-throws', photo: samplePhoto(3), login: false }));

test('logged in, the socket errors and closes at once: polling brings the result', () =>
  uploadAndFollow({ blocker: 'fails', name: 'fallback-fails', photo: samplePhoto(1), login: true }));
