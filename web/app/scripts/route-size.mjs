// Prints the JavaScript each route loads (the entry chunk, the route's lazy
// chunk and everything they import statically), raw and gzipped, from
// Vite's build manifest; fails when the gallery route is over its budget.
// With --strip, removes the manifest afterwards: it is for this report, not
// for browsers, and the Go binary embeds all of dist/.
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP = 300 * 1024; // issue 5: the gallery loads at most 300 KB of JS gzipped
const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('.vite/manifest.json', dist), 'utf8'));

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
if (!entry) throw new Error('no entry in the manifest');

/** Every chunk key reachable from keys through static imports. */
function closure(keys) {
  const seen = new Set();
  const walk = (k) => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const i of manifest[k].imports ?? []) walk(i);
  };
  keys.forEach(walk);
  return seen;
}

const sizes = new Map();
function size(file) {
  if (!sizes.has(file)) {
    const bytes = readFileSync(new URL(file, dist));
    sizes.set(file, { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  return sizes.get(file);
}

function routeSize(keys) {
  let raw = 0;
  let gzip = 0;
  for (const k of closure(keys)) {
    const s = size(manifest[k].file);
    raw += s.raw;
    gzip += s.gzip;
  }
  return { raw, gzip };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const routes = Object.keys(manifest)
  .filter((k) => manifest[k].isDynamicEntry && k.endsWith('.tsx'))
  .map((k) => ({ name: k.replace(/^src\/(features\/)?/, '').replace(/\.tsx$/, ''), ...routeSize([entry, k]) }))
  .sort((a, b) => b.gzip - a.gzip);

const shell = routeSize([entry]);
console.log('\nJavaScript per route (entry + lazy page + static imports):');
console.log(`  ${'shell (entry only)'.padEnd(34)} ${kb(shell.raw).padStart(10)}  ${kb(shell.gzip).padStart(9)} gzip`);
for (const r of routes) console.log(`  ${r.name.padEnd(34)} ${kb(r.raw).padStart(10)}  ${kb(r.gzip).padStart(9)} gzip`);

const gallery = routes.find((r) => r.name === 'gallery/GalleryPage');
if (!gallery) throw new Error('the gallery page is not a lazy chunk');
console.log(`\nGallery route: ${kb(gallery.gzip)} gzipped (budget ${kb(BUDGET_GZIP)}).`);
if (process.argv.includes('--strip')) rmSync(new URL('.vite/', dist), { recursive: true, force: true });
if (gallery.gzip > BUDGET_GZIP) {
  console.error('The gallery route is over its JavaScript budget.');
  process.exit(1);
}
