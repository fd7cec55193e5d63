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
console.log(JSON.stringify({ faces, ms }));
process.exit(0);
