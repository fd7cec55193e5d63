// Test harness: the real igemoji binary on a free port with a fresh data
// directory, and Debian's Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// Without a browser these tests cannot run: outside CI they are skipped,
// loudly; under CI they must run, so the file fails.
if (!existsSync(chromiumPath)) {
  const msg = `!!! SKIPPED: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM) !!!`;
  if (process.env.CI) throw new Error(msg + ' CI requires it.');
  console.log(msg);
  process.exit(0);
}
export const screenshots = join(import.meta.dirname, 'screenshots');
export const samplePhoto = (n) => join(root, '.cache/npm/@vladmandic/face-api@1.7.15/demo', `sample${n}.jpg`);

// startServer runs `igemoji serve` and resolves once it listens.
export async function startServer() {
  const data = mkdtempSync(join(tmpdir(), 'igemoji-e2e-'));
  const proc = spawn(join(root, 'bin/igemoji'), [
    'serve', '--addr', '127.0.0.1:0', '--data', data, '--assets', join(root, '.cache'),
    '--bcrypt-cost', '4', '--log-level', 'info',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${log}`)), 60_000);
    proc.stderr.on('data', (b) => {
      log += b;
      const m = /msg=listening addr=(\S+)/.exec(log);
      if (m) { clearTimeout(timer); ok(`http://${m[1]}`); }
    });
    proc.on('exit', (code) => fail(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    base,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((ok) => proc.exitCode !== null ? ok() : proc.on('exit', ok));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

// launch starts headless Chromium with a fake camera that needs no prompt.
export async function launch() {
  mkdirSync(screenshots, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--no-sandbox'],
  });
}

// shot saves a full-page screenshot. It scrolls to the top first (else the
// sticky app bar is drawn in the middle of a full-page capture) and
// finishes CSS transitions (MUI fades, button colours) so nothing is caught
// half-drawn.
export async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true, animations: 'disabled' });
}

// recordProgress makes the page remember every value a task progress bar
// shows (aria-valuenow of the "Progress" progressbar), across client-side
// navigation. progressSeen reads them back as one list per bar element, in
// the order the bars appeared: the upload page's bar, then any bar the
// result page shows.
export async function recordProgress(page) {
  await page.addInitScript(() => {
    const bars = new WeakMap();
    const seen = (window.__progressSeen = []);
    new MutationObserver(() => {
      const bar = document.querySelector('[role="progressbar"][aria-label="Progress"]');
      const v = bar?.getAttribute('aria-valuenow');
      if (v == null) return;
      if (!bars.has(bar)) bars.set(bar, seen.push([]) - 1);
      const values = seen[bars.get(bar)];
      if (values[values.length - 1] !== Number(v)) values.push(Number(v));
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
}
export const progressSeen = (page) => page.evaluate(() => window.__progressSeen ?? []);

// failureShot runs fn and, if it throws, saves a screenshot of page named
// NAME-FAILED before rethrowing: a failure in CI leaves a picture behind.
export async function failureShot(page, name, fn) {
  rmSync(join(screenshots, `${name}-FAILED.png`), { force: true });
  try {
    return await fn();
  } catch (err) {
    await shot(page, `${name}-FAILED`).catch(() => {});
    throw err;
  }
}
