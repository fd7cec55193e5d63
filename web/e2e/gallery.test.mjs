import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('the gallery renders the built-in templates and the ranking', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const start = Date.now();
  await page.goto(server.base + '/');
  await page.getByText('Fluent Flat').first().waitFor({ timeout: 15_000 });
  const firstRender = Date.now() - start;
  console.log(`gallery: first render with templates in ${firstRender} ms`);
  await assert.doesNotReject(page.getByText('Noto Color').first().waitFor());
  await shot(page, 'gallery');
  await page.close();
});
