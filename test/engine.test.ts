import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { configuredThreads, loadLiteRtRuntime } from '../src/engine/litert-runtime.js';
import { assertTfliteIntegrity } from '../src/engine/tflite-check.js';
import { ModelLoadError } from '../src/errors.js';
import { SHARED_MODELS } from './helpers.js';

describe('LiteRT engine', () => {
  it('starts the threaded runtime when the machine has cores for it, and leaves no browser globals', async () => {
    const runtime = await loadLiteRtRuntime();
    const expected = process.env.TFLITE_FN_THREADS
      ? configuredThreads()
      : Math.min(availableParallelism(), 4);
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
