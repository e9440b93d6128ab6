/**
 * A deployment serving a WASI-NN program whose model is preloaded (TFLITE_FN_NN_PRELOAD, the
 * syntax of `wasmedge --nn-preload`), and what each surface does when that model is missing
 * or too large. Like program.test.ts, this file runs in its own process: the handlers read
 * the settings when first loaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createApp } from '../src/http/app.js';
import { cacheDir, modelCacheDir } from '../src/store/paths.js';
import { describeProgramOnEveryHandler } from './conformance/program-surfaces.js';
import { haveClang, nnProgramFixture } from './guests/build.js';
import { tableGrower } from './guests/raw.js';
import { CLI, photo } from './helpers.js';

if (!haveClang() && process.env.CI) throw new Error('clang and wasi-libc are missing: .ci/run installs them');
const skip = haveClang() ? false : 'clang / wasi-libc not installed';

describe('a deployment serving a WASI-NN program with a preloaded model (TFLITE_FN_NN_PRELOAD)', {
  skip,
}, async () => {
  if (skip) return;
  // As program.test.ts: the deployment's folder is the working folder, and both settings
  // name files in its programs/ relative to it, as in a deployed function.
  const deployment = mkdtempSync(join(tmpdir(), 'tflite-fn-nn-deployment-'));
  const fixture = nnProgramFixture(deployment);
  process.chdir(deployment);
  Object.assign(process.env, fixture.env);
  const expected = await fixture.answer(photo('grace_hopper.jpg'));
  await describeProgramOnEveryHandler({ expected: () => expected }, 'WASI-NN, its model preloaded');
});

/** A model file of `bytes` bytes: only its size and presence are checked at start-up. */
function modelFile(folder: string, bytes: number): string {
  const path = join(folder, 'model.tflite');
  writeFileSync(path, new Uint8Array(bytes));
  return path;
}

describe('a preload whose PATH is the id of a built-in model (no file of that name): that model', {
  skip,
}, () => {
  const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-nn-builtin-'));
  const fixture = skip ? undefined : nnProgramFixture(folder);
  const program = join(folder, fixture?.relativePath ?? '');
  const run = (preload: string, cwd = folder) =>
    spawnSync(process.execPath, [CLI, 'run', '--nn-preload', preload, program], {
      cwd,
      input: photo('grace_hopper.jpg'),
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('tflite-fn run --nn-preload default:TensorflowLite:CPU:imagenet answers as with the file itself', async () => {
    const result = run('default:TensorflowLite:CPU:imagenet');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, await fixture?.answer(photo('grace_hopper.jpg')));
  });

  it("a file of that name wins, as PATH means in WasmEdge's flag", () => {
    // A different model (128x128 input) named 'imagenet' in the working folder: the program's
    // 224x224 input no longer fits it, so it fails at set_input (exit 4), proving the file ran.
    const cwd = mkdtempSync(join(tmpdir(), 'tflite-fn-nn-file-wins-'));
    writeFileSync(
      join(cwd, 'imagenet'),
      readFileSync(join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite')),
    );
    const result = run('default:TensorflowLite:CPU:imagenet', cwd);
    assert.equal(result.status, 4, result.stderr);
  });

  it('not for an ONNX preload (built-in models are TensorFlow Lite): the path is a file path, and missing', () => {
    const result = run('default:ONNX:CPU:imagenet');
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /cannot read imagenet/);
  });

  it("a bundle with the model's verified conversion but not its .tflite (as Netlify's): the id still preloads it", async () => {
    const cache = mkdtempSync(join(tmpdir(), 'tflite-fn-conversions-only-'));
    cpSync(join(cacheDir(), 'onnx'), join(cache, 'onnx'), { recursive: true });
    const withCache = (preload: string) =>
      spawnSync(process.execPath, [CLI, 'run', '--nn-preload', preload, program], {
        cwd: folder,
        input: photo('grace_hopper.jpg'),
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, TFLITE_FN_CACHE_DIR: cache },
      });
    const result = withCache('default:TensorflowLite:CPU:imagenet');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, await fixture?.answer(photo('grace_hopper.jpg')));
    // Neither the file nor the conversion: one line before the program starts.
    rmSync(join(cache, 'onnx'), { recursive: true });
    const neither = withCache('default:TensorflowLite:CPU:imagenet');
    assert.equal(neither.status, 2, neither.stderr);
    assert.match(neither.stderr, /^tflite-fn: [^\n]*imagenet[^\n]*\n$/);
  });

  it('a deployment: TFLITE_FN_NN_PRELOAD=default:TensorflowLite:CPU:imagenet, no model file shipped', async () => {
    const app = createApp({ program, nnPreload: ['default:TensorflowLite:CPU:imagenet'] });
    const response = await app.request('/classify', { method: 'POST', body: photo('grace_hopper.jpg') });
    assert.equal(await response.text(), await fixture?.answer(photo('grace_hopper.jpg')));
  });
});

describe('a deployment whose preloaded model is missing or too large', () => {
  const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-preload-'));
  const program = join(folder, 'program.wasm');
  writeFileSync(program, tableGrower());
  const missing = `default:TensorflowLite:CPU:${join(folder, 'gone.tflite')}`;

  /** `tflite-fn serve` or `dev` started with the settings: it must stop at start-up. */
  const start = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [CLI, ...args, '--port', '0'], {
      env: { ...process.env, TFLITE_FN_PROGRAM: program, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  for (const [surface, args] of [
    ['tflite-fn serve', ['serve', '--workers', '1']],
    ['tflite-fn dev (Vercel)', ['dev', '--platform', 'vercel']],
    ['tflite-fn dev (Netlify)', ['dev', '--platform', 'netlify']],
  ] as const) {
    it(`${surface}: a missing file stops start-up with one line naming the setting and the file`, () => {
      const run = start([...args], { TFLITE_FN_NN_PRELOAD: missing });
      assert.notEqual(run.status, 0, run.stdout);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /^tflite-fn: TFLITE_FN_NN_PRELOAD: .*default.*cannot read .*gone\.tflite/);
    });
  }

  it('tflite-fn serve: a file over TFLITE_FN_MAX_MODEL_BYTES stops start-up with one line naming the limit', () => {
    const run = start(['serve', '--workers', '1'], {
      TFLITE_FN_NN_PRELOAD: `default:TensorflowLite:CPU:${modelFile(folder, 4096)}`,
      TFLITE_FN_MAX_MODEL_BYTES: '1024',
    });
    assert.notEqual(run.status, 0, run.stdout);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(
      run.stderr,
      /TFLITE_FN_NN_PRELOAD: .* is 4096 bytes; the limit is 1024 \(TFLITE_FN_MAX_MODEL_BYTES\)/,
    );
  });

  it("the start-up error's stack is its one line: what Lambda's init error and the platforms' logs print", () => {
    const error = (() => {
      try {
        createApp({ program, nnPreload: [missing] });
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    assert.ok(error, 'createApp refused the missing file');
    assert.equal(error.stack, `BadRequestError: ${error.message}`);
    assert.match(error.message, /^nnPreload: .*cannot read/);
  });

  it('a file gone after start-up: 500 program_missing without the host path; back in place, it is served again', {
    skip,
  }, async () => {
    const served = mkdtempSync(join(tmpdir(), 'tflite-fn-nn-gone-'));
    const fixture = nnProgramFixture(served);
    const model = join(served, 'programs', 'mobilenet_v2_1.0_224_quant.tflite');
    const app = createApp({
      program: join(served, fixture.relativePath),
      nnPreload: [`default:TensorflowLite:CPU:${model}`],
    });
    const post = () => app.request('/classify', { method: 'POST', body: photo('grace_hopper.jpg') });
    const bytes = readFileSync(model);
    rmSync(model);
    const response = await post();
    const text = await response.text();
    assert.equal(response.status, 500, text);
    const error = (JSON.parse(text) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'program_missing');
    assert.match(error.message, /TFLITE_FN_NN_PRELOAD/);
    assert.ok(!text.includes(served), `no host path in ${text}`);
    writeFileSync(model, bytes);
    const again = await post();
    assert.equal(await again.text(), await fixture.answer(photo('grace_hopper.jpg')));
  });
});
