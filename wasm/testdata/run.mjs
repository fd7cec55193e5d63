// Runs the preview module under Node as the browser would: argv is
// WASM MODEL RGBA WIDTH HEIGHT; prints {"faces":[...],"ms":N} as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const [wasmPath, modelPath, rgbaPath, width, height] = process.argv.slice(2);
const goroot = execFileSync('go', ['env', 'GOROOT']).toString().trim();
createRequire(import.meta.url)(join(goroot, 'lib/wasm/wasm_exec.js')); // defines globalThis.Go

const go = new globalThis.Go();
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), go.importObject);
go.run(instance); // runs until the page (here: this script) ends
globalThis.igemoji.load(new Uint8Array(readFileSync(modelPath)));
const rgba = new Uint8Array(readFileSync(rgbaPath));
const w = Number(width), h = Number(height);
globalThis.igemoji.detect(rgba, w, h); // warm-up
const t0 = performance.now();
const faces = globalThis.igemoji.detect(rgba, w, h);
const ms = performance.now() - t0;
// preview(): a plain red 64x64 emoji pasted on every face; report how many
// pixels changed, to check that it drew something where the faces are.
const emoji = new Uint8Array(64 * 64 * 4);
for (let i = 0; i < emoji.length; i += 4) { emoji[i] = 255; emoji[i + 3] = 255; }
const p = globalThis.igemoji.preview(rgba, w, h, emoji, 64, 64);
let changed = 0;
for (let i = 0; i < rgba.length; i += 4) if (p.rgba[i] !== rgba[i] || p.rgba[i + 1] !== rgba[i + 1]) changed++;
console.log(JSON.stringify({ faces, ms, preview: { faces: p.faces.length, changed, length: p.rgba.length } }));
process.exit(0);
