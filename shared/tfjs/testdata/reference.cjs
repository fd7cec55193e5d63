// reference.cjs computes testdata/golden.json's expected outputs with tfjs
// itself (the pure-JS cpu backend), for the inputs the Go tests build.
//
// Usage, from shared/tfjs (nothing here is needed to run the Go tests):
//
//   # tfjs 4.22.0 (the version face-api 1.7.15 bundles), outside the repo.
//   # Never @tensorflow/tfjs-node: its install downloads a binary.
//   mkdir -p /tmp/tfref && (cd /tmp/tfref && npm init -y &&
//     npm install --ignore-scripts @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0)
//   # face-api's code (make assets keeps its tarball), also outside the repo.
//   mkdir -p /tmp/faceapi && tar xzf ../../.cache/npm/tarballs/vladmandic-face-api-1.7.15.tgz -C /tmp/faceapi
//   # The inputs, as the Go tests build them.
//   TFJS_DUMP_DIR=/tmp/tfjsdump go test -count=1 -run TestDumpReferenceInputs .
//   NODE_PATH=/tmp/tfref/node_modules node testdata/reference.cjs \
//     ../../.cache/npm /tmp/faceapi/package /tmp/tfjsdump testdata/golden.json
//
// It rewrites golden.json with each case's "probs" filled in.
'use strict';

const fs = require('fs');
const path = require('path');

async function main() {
  const [npmCache, faceapiDir, dumpDir, goldenPath] = process.argv.slice(2);
  if (!goldenPath) throw new Error('usage: reference.cjs NPM_CACHE FACEAPI_PACKAGE_DIR DUMP_DIR GOLDEN_JSON');
  const tf = require('@tensorflow/tfjs');
  // face-api's node build for pure-JS tfjs; it requires the same
  // @tensorflow/tfjs module, so both share one engine.
  const faceapi = require(path.resolve(faceapiDir, 'dist/face-api.node-wasm.js'));
  await tf.setBackend('cpu');
  await tf.ready();
  if (faceapi.tf.getBackend() !== 'cpu') throw new Error('face-api does not share tfjs');

  const golden = JSON.parse(fs.readFileSync(goldenPath, 'utf8'));
  for (const m of golden.models) {
    const file = path.join(npmCache, m.path);
    let run;
    if (m.kind === 'graph-model') {
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      const specs = [];
      const bufs = [];
      for (const g of json.weightsManifest) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(path.dirname(file), p)));
      }
      const all = Buffer.concat(bufs);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      const model = await tf.loadGraphModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: specs, weightData,
        format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        userDefinedMetadata: json.userDefinedMetadata,
      }));
      run = (x) => model.execute(tf.tensor4d(x, [1, ...m.size]));
    } else if (m.kind === 'face-api') {
      const net = new faceapi.FaceExpressionNet();
      await net.loadFromDisk(path.dirname(file));
      // forward() wraps the Tensor3D in a NetInput, so it goes through
      // NetInput.toBatchTensor (at 112x112 nothing is resized) and face-api's
      // normalization. (forwardInput would take a bare tensor as the
      // extractor's output.)
      run = (x) => net.forward(faceapi.tf.tensor3d(x, m.size));
    } else if (m.kind === 'face-api-landmarks') {
      const net = new faceapi.FaceLandmark68Net();
      await net.loadFromDisk(path.dirname(file));
      // forward() ends in postProcess, which for a square 112x112 input
      // (no padding, scale 1) leaves the net's raw outputs as they are.
      run = (x) => net.forward(faceapi.tf.tensor3d(x, m.size));
    } else {
      throw new Error(`model kind ${m.kind}`);
    }
    for (const c of m.cases) {
      const raw = fs.readFileSync(path.join(dumpDir, m.name, `${c.name}.f32`));
      const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      if (x.length !== m.size[0] * m.size[1] * m.size[2]) throw new Error(`${m.name}/${c.name}: ${x.length} values`);
      const y = await run(x);
      c.probs = Array.from(await y.data());
      y.dispose();
      console.log(`${m.name} ${c.name}: ${c.probs.map((p) => p.toFixed(6)).join(' ')}`);
    }
  }
  golden.comment = `Reference outputs of tfjs ${tf.version.tfjs} (pure-JS cpu backend) for the inputs the tests rebuild; regenerate with testdata/reference.cjs (see its header).`;
  fs.writeFileSync(goldenPath, `${formatGolden(golden)}\n`);
}

// formatGolden prints one case per line.
function formatGolden(g) {
  const lines = ['{', `  "comment": ${JSON.stringify(g.comment)},`, '  "models": ['];
  g.models.forEach((m, i) => {
    const { cases, ...head } = m;
    lines.push('    {');
    for (const [k, v] of Object.entries(head)) lines.push(`      ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
    lines.push('      "cases": [');
    cases.forEach((c, j) => lines.push(`        ${JSON.stringify(c)}${j < cases.length - 1 ? ',' : ''}`));
    lines.push('      ]');
    lines.push(`    }${i < g.models.length - 1 ? ',' : ''}`);
  });
  lines.push('  ]', '}');
  return lines.join('\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
