import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

// issue 5: the gallery loads at most 300 KB of JavaScript, gzipped.
const JS_BUDGET_GZIP = 300 * 1024;

test('the gallery renders the built-in templates and the ranking', async () => {
  // A fresh context: an empty cache, so every script is fetched.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // Every script the gallery route fetches, with its size on the wire.
  const scripts = [];
  page.on('response', (res) => {
    if (!new URL(res.url()).pathname.endsWith('.js')) return;
    scripts.push((async () => {
      await res.finished();
      const [sizes, body] = await Promise.all([res.request().sizes(), res.body()]);
      return {
        path: new URL(res.url()).pathname,
        encoding: res.headers()['content-encoding'] ?? 'identity',
        wire: sizes.responseBodySize, // the body as transferred (encoded)
        raw: body.length, // decoded
      };
    })());
  });

  const start = Date.now();
  await page.goto(server.base + '/');
  await page.getByText('Fluent Flat').first().waitFor({ timeout: 15_000 });
  const firstRender = Date.now() - start;
  console.log(`gallery: first render with templates in ${firstRender} ms`);
  await assert.doesNotReject(page.getByText('Noto Color').first().waitFor());
  await page.getByRole('heading', { name: 'Ranking' }).waitFor();
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
  console.log(`gallery: first contentful paint at ${Math.round(fcp)} ms`);

  await page.waitForLoadState('networkidle');
  const js = await Promise.all(scripts);
  assert.ok(js.length > 0, 'the gallery loaded some JavaScript');
  for (const s of js) assert.equal(s.encoding, 'gzip', `${s.path} is sent gzipped`);
  const wire = js.reduce((n, s) => n + s.wire, 0);
  const raw = js.reduce((n, s) => n + s.raw, 0);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`gallery: ${js.length} JS files, ${wire} bytes (${kb(wire)}) gzipped on the wire, ${kb(raw)} decoded`);
  for (const s of js.sort((a, b) => b.wire - a.wire)) console.log(`  ${s.path}  ${kb(s.wire)} gzip, ${kb(s.raw)}`);
  assert.ok(wire <= JS_BUDGET_GZIP, `gallery JS ${kb(wire)} gzipped is within ${kb(JS_BUDGET_GZIP)}`);

  await shot(page, 'gallery');
  await context.close();
});

test('the gallery on a 360x800 phone', async () => {
  const context = await browser.newContext({
    viewport: { width: 360, height: 800 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const page = await context.newPage();
  await page.goto(server.base + '/');
  await page.getByText('Fluent Flat').first().waitFor({ timeout: 15_000 });
  await page.getByRole('heading', { name: 'Ranking' }).waitFor();
  // No sideways scrolling on a narrow screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  // The wide navigation gives way to the menu button.
  const menu = page.getByRole('button', { name: 'Open the menu' });
  assert.ok(await menu.isVisible(), 'the menu button shows on a phone');
  await shot(page, 'gallery-phone');

  await menu.click();
  await page.getByRole('menuitem', { name: 'Sign up' }).waitFor();
  await shot(page, 'gallery-phone-menu');
  await context.close();
});
