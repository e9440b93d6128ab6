import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { THREADS } from '../src/config/index.js';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { configuredThreads, loadLiteRtRuntime } from '../src/engine/litert-runtime.js';
import { ModelLoadError, TfliteFnError } from '../src/errors.js';
import { assertTfliteIntegrity } from '../src/tflite/check.js';
import { exactInt8Paths, factsFrom, sessionEntriesFor } from '../src/util/cpu.js';
import { SHARED_MODELS } from './helpers.js';

/** dist/src, beside this compiled test's folder. */
const DIST_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

describe('LiteRT engine', () => {
  it('starts the threaded runtime when the machine has cores for it, and leaves no browser globals', async () => {
    const runtime = await loadLiteRtRuntime();
    const expected = THREADS.read() ? configuredThreads() : Math.min(availableParallelism(), 4);
    assert.equal(runtime.threads, expected, 'no silent fallback to one thread');
    for (const name of ['self', 'importScripts', 'Module', 'ModuleFactory']) {
      assert.ok(!(name in globalThis), `global ${name} was removed after loading`);
    }
  });

  it('reads input and output names, types and shapes from the model', async () => {
    const bytes = readFileSync(join(SHARED_MODELS, 'mobilenet_v2_1.0_224_quant.tflite'));
    const model = await LiteRtCompiledModelAdapter.compile(new Uint8Array(bytes), 'mobilenet');
    assert.deepEqual(model.inputs, [{ name: 'input', dtype: 'uint8', shape: [1, 224, 224, 3] }]);
    assert.deepEqual(model.outputs, [
      { name: 'MobilenetV2/Predictions/Softmax', dtype: 'uint8', shape: [1, 1001] },
    ]);
    await assert.rejects(model.run([new Uint8Array(10)]), /needs 150528 values, got 10/);
    const [scores] = await model.run([new Uint8Array(224 * 224 * 3).fill(128)]);
    assert.equal(scores?.length, 1001);
    model.dispose();
    await assert.rejects(model.run([new Uint8Array(224 * 224 * 3)]), ModelLoadError);
  });

  it('refuses every truncation of a model that cuts into its FlatBuffer', () => {
    const bytes = new Uint8Array(readFileSync(join(SHARED_MODELS, 'mobilenet_v2_1.0_224_quant.tflite')));
    assert.doesNotThrow(() => assertTfliteIntegrity(bytes, 'whole'));
    // The last ~22 kB of this file are a zip of its labels, appended after the FlatBuffer and
    // never read by TFLite; any cut before that must be caught.
    for (const keep of [0.1, 0.5, 0.9, 0.99]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * keep));
      assert.throws(
        () => assertTfliteIntegrity(cut, 'cut'),
        /truncated or corrupt|not a TensorFlow Lite/,
        `kept ${keep}`,
      );
    }
  });
});

describe('CPU facts and int8 kernel paths', () => {
  it('TFLITE_FN_CPU_FEATURES takes VNNI away (or adds it) and is recorded; a malformed value is an error', () => {
    const intel = new Set(['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni']);
    const asIs = factsFrom(intel, undefined);
    assert.equal(asIs.int8DotProduct, true);
    assert.equal(asIs.featureOverride, undefined);
    const withoutVnni = factsFrom(intel, '-avx512_vnni,-avx_vnni');
    assert.deepEqual(withoutVnni.flags, ['avx2', 'fma', 'avx512f']);
    assert.equal(withoutVnni.int8DotProduct, false);
    assert.equal(withoutVnni.featureOverride, '-avx512_vnni,-avx_vnni');
    assert.equal(factsFrom(new Set(['avx2']), '+avx_vnni').int8DotProduct, true);
    assert.throws(
      () => factsFrom(intel, 'avx2'),
      (error: unknown) => {
        return (
          error instanceof TfliteFnError &&
          error.status === 400 &&
          /TFLITE_FN_CPU_FEATURES/.test(error.message)
        );
      },
    );
  });

  it('an x86 CPU with VNNI computes both int8 paths exactly, one without only the u8 x u8 path', () => {
    const x86 = (flags: string[]) => ({ ...factsFrom(new Set(flags), undefined), arch: 'x64' });
    assert.deepEqual(exactInt8Paths(x86(['avx2', 'avx512_vnni'])), ['x86-vnni', 'x86-u8u8']);
    assert.deepEqual(exactInt8Paths(x86(['avx2', 'avx_vnni'])), ['x86-vnni', 'x86-u8u8']);
    assert.deepEqual(exactInt8Paths(x86(['avx2', 'fma'])), ['x86-u8u8']);
    assert.deepEqual(exactInt8Paths(x86([])), ['x86-u8u8'], 'flags unknown: the path exact everywhere');
    assert.deepEqual(exactInt8Paths({ ...x86(['asimddp']), arch: 'arm64' }), ['native']);
    assert.deepEqual(sessionEntriesFor('x86-u8u8'), { x64quantprecision: '1' });
    assert.deepEqual(sessionEntriesFor('x86-vnni'), {});
  });

  it('a process started with TFLITE_FN_CPU_FEATURES=-avx512_vnni,-avx_vnni takes the path of a CPU without VNNI', () => {
    const script = `import('${pathToFileURL(join(DIST_SRC, 'util/cpu.js')).href}').then((m) => console.log(JSON.stringify([m.exactInt8Paths(), m.cpuFacts().featureOverride])))`;
    const run = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, TFLITE_FN_CPU_FEATURES: '-avx512_vnni,-avx_vnni' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const [paths, override] = JSON.parse(run.stdout) as [string[], string];
    assert.equal(override, '-avx512_vnni,-avx_vnni');
    assert.deepEqual(paths, exactInt8Paths().includes('x86-u8u8') ? ['x86-u8u8'] : ['native']);
  });
});
