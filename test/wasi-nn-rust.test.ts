import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readOnnx, readReport } from '../src/convert/store.js';
import { buildRustBirdsGuest, buildRustNnClassifyGuest, haveRustWasm } from './guests/build.js';
import { CLI, IMAGES, SHARED_MODELS } from './helpers.js';

if (!haveRustWasm() && process.env.CI)
  throw new Error('rustc for wasm32-wasi is missing: .ci/run installs it');
const skip = haveRustWasm() ? false : 'rustc / libstd-rust-dev-wasm32 not installed';

/** The wasi_ephemeral_nn functions the birds program calls through the wasi-nn 0.6 API. */
const BIRDS_NN_CALLS = ['compute', 'get_output', 'init_execution_context', 'load', 'set_input'];
const MODEL = 'lite-model_aiy_vision_classifier_birds_V1_3.tflite';
const LABELS = readFileSync(join(SHARED_MODELS, 'aiy_birds_V1_labelmap.txt'), 'utf8').trimEnd().split('\n');
/** One line of the example's top 5: `   1.) [class](score)label`. */
const TOP_LINE = /^ {3}([1-5])\.\) \[(\d+)\]\((\d+)\)(.+)$/;

/**
 * As the example's README runs it: `wasmedge --dir .:. prog.wasm MODEL IMAGE`, from a folder
 * holding both files (copies in a temporary folder: grants refuse paths through symlinks).
 */
function runInFolder(
  wasm: string,
  files: readonly string[],
  args: readonly string[],
  written: Readonly<Record<string, Uint8Array>> = {},
  options: readonly string[] = [],
) {
  const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-nn-'));
  for (const file of files) copyFileSync(file, join(folder, basename(file)));
  for (const [name, bytes] of Object.entries(written)) writeFileSync(join(folder, name), bytes);
  try {
    return spawnSync(process.execPath, [CLI, 'run', '--dir', '.:.', ...options, wasm, ...args], {
      cwd: folder,
      // The encoding-onnx case loads the program's own ONNX bytes, which the operator must allow.
      env: { ...process.env, TFLITE_FN_NN_GUEST_ONNX: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

describe('WasmEdge tflite-birds_v1-image, in Rust over our wasi-nn 0.6 stand-in', { skip }, () => {
  let program: Uint8Array;
  let wasm = '';
  before(() => {
    wasm = buildRustBirdsGuest(join(SHARED_MODELS, 'aiy_birds_V1_labelmap.txt'));
    program = readFileSync(wasm);
  });

  it('builds from source and imports only WASI and the wasi_ephemeral_nn functions it calls', () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(program));
    const modules = new Set(imports.map((entry) => entry.module));
    assert.deepEqual([...modules].sort(), ['wasi_ephemeral_nn', 'wasi_snapshot_preview1']);
    const nn = imports.filter((entry) => entry.module === 'wasi_ephemeral_nn');
    assert.deepEqual(nn.map((entry) => entry.name).sort(), BIRDS_NN_CALLS);
    assert.ok(nn.every((entry) => entry.kind === 'function'));
  });

  it("prints the example's lines and top 5, naming bird.bmp's Black-capped Chickadee first", () => {
    const run = runInFolder(
      wasm,
      [join(SHARED_MODELS, MODEL), join(IMAGES, 'bird.bmp')],
      [MODEL, 'bird.bmp'],
    );
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 8, run.stdout);
    assert.equal(lines[0], `Read graph weights, size in bytes: ${statSync(join(SHARED_MODELS, MODEL)).size}`);
    assert.equal(lines[1], 'Loaded graph into wasi-nn with ID: Graph#0');
    assert.equal(lines[2], 'Read input tensor, size in bytes: 150528');
    const top = lines.slice(3).map((line, rank) => {
      const match = TOP_LINE.exec(line);
      assert.ok(match, `not the example's format: ${JSON.stringify(line)}`);
      assert.equal(Number(match[1]), rank + 1);
      assert.equal(match[4], LABELS[Number(match[2])], 'the label of that class');
      return { index: Number(match[2]), score: Number(match[3]) };
    });
    // Measured: 193/255 for class 659 (Poecile atricapillus), next 14 (Poecile carolinensis).
    assert.equal(LABELS[top[0]?.index ?? -1], 'Poecile atricapillus');
    assert.ok((top[0]?.score ?? 0) > 150, `score ${top[0]?.score}`);
    for (let i = 1; i < top.length; i++) assert.ok((top[i]?.score ?? 0) <= (top[i - 1]?.score ?? 0));
  });

  it('fails with the reason when the image is not one it decodes, as the example does', () => {
    const run = runInFolder(
      wasm,
      [join(SHARED_MODELS, MODEL), join(IMAGES, 'grace_hopper.jpg')],
      [MODEL, 'grace_hopper.jpg'],
    );
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /decodes BMP only/);
    assert.doesNotMatch(run.stdout, /1\.\)/);
  });
});

describe('nn-classify in Rust: the same program loading the model other ways', { skip }, () => {
  const tflite = join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite');
  const files = [tflite, join(SHARED_MODELS, 'imagenet_labels.txt'), join(IMAGES, 'cat.bmp')];
  const classify = (
    wasm: string,
    how: string,
    model: string,
    written: Record<string, Uint8Array> = {},
    options: readonly string[] = [],
  ) => runInFolder(wasm, files, [how, model, 'cat.bmp', '128', 'imagenet_labels.txt'], written, options);
  const convertedOnnx = () => {
    const sha256 = createHash('sha256').update(readFileSync(tflite)).digest('hex');
    assert.ok(readReport(sha256)?.ok, 'set-up converted the default model');
    return readOnnx(sha256);
  };
  let wasm = '';
  let byFile = '';
  before(() => {
    wasm = buildRustNnClassifyGuest();
    const run = classify(wasm, 'tflite', basename(tflite));
    assert.equal(run.status, 0, run.stderr);
    byFile = run.stdout;
  });

  it('names the cat in cat.bmp from the model file (the default model, 128x128)', () => {
    const top = byFile.trimEnd().split('\n');
    assert.equal(top.length, 5, byFile);
    assert.match(top[0] ?? '', /^ {3}1\.\) \[\d+\]\(\d+\)[^\n]*\bcat\b/);
  });

  it('prints the same when the encoding is autodetected from the bytes', () => {
    const run = classify(wasm, 'autodetect', basename(tflite));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, byFile);
  });

  it('prints the same from the ONNX model set-up converted and verified (encoding onnx)', () => {
    const run = classify(wasm, 'onnx', 'default.onnx', { 'default.onnx': convertedOnnx() });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, byFile);
  });

  it('answers NotFound (8) for a name nobody preloaded, and the program says so', () => {
    const run = classify(wasm, 'preload', 'nobody');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^Error: BackendError\(NotFound\)$/m);
    assert.equal(run.stdout, '');
  });

  it('prints the same from a model preloaded as wasmedge --nn-preload does (TensorFlow Lite, ONNX)', () => {
    const tflitePreload = `default:TensorflowLite:CPU:${basename(tflite)}`;
    const byName = classify(wasm, 'preload', 'default', {}, ['--nn-preload', tflitePreload]);
    assert.equal(byName.status, 0, byName.stderr);
    assert.equal(byName.stdout, byFile);
    const onnx = classify(wasm, 'preload', 'cat-onnx', { 'default.onnx': convertedOnnx() }, [
      '--nn-preload',
      'cat-onnx:ONNX:CPU:default.onnx',
    ]);
    assert.equal(onnx.status, 0, onnx.stderr);
    assert.equal(onnx.stdout, byFile);
  });
});
