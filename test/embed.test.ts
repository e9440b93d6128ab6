import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { embedTask } from '../src/tasks/embed/index.js';
import { outputQuantization } from '../src/tasks/embed/output-quantization.js';
import { cosineSimilarity, unitEmbedding } from '../src/tasks/embed/vector.js';
import { SHARED_MODELS } from './helpers.js';

const MODEL_FILE = 'mobilenet_v1_1.0_224_quant_embedding_extractor.tflite';

describe('embed: reading the output', () => {
  it("reads the output's scale and zero point from the model file", () => {
    const bytes = readFileSync(join(SHARED_MODELS, MODEL_FILE));
    const byName = outputQuantization(bytes, MODEL_FILE, {
      name: 'MobilenetV1/Logits/AvgPool_1a/AvgPool',
      index: 0,
    });
    assert.ok(byName);
    assert.ok(Math.abs(byName.scale - 0.0235285) < 1e-6, String(byName.scale));
    assert.equal(byName.zeroPoint, 0);
    // A signature name the file's tensors do not have: the output of the same position.
    assert.deepEqual(outputQuantization(bytes, MODEL_FILE, { name: 'output_0', index: 0 }), byName);
  });

  it('a float output has no quantization; a file that is not a model is a model_load_failed', () => {
    const movenet = readFileSync(join(SHARED_MODELS, 'movenet_single_pose_lightning_ptq.tflite'));
    assert.equal(outputQuantization(movenet, 'movenet', { name: 'output_0', index: 0 }), undefined);
    assert.throws(
      () => outputQuantization(new Uint8Array(64), 'junk', { name: 'x', index: 0 }),
      (error: { code?: string }) => error.code === 'model_load_failed',
    );
  });

  it('dequantizes with the zero point and scales to unit length', () => {
    const v = unitEmbedding(new Uint8Array([13, 10, 14]), { scale: 0.5, zeroPoint: 10 });
    // (3, 0, 4) * 0.5 -> (0.6, 0, 0.8)
    assert.deepEqual(
      Array.from(v, (x) => Math.round(x * 1e9) / 1e9),
      [0.6, 0, 0.8],
    );
    assert.deepEqual(Array.from(unitEmbedding(new Float32Array([0, 0]), undefined)), [0, 0]);
  });
});

describe('embed: cosine similarity', () => {
  it('is 1 for the same direction, 0 for orthogonal, -1 for opposite, 0 against all zeros', () => {
    assert.equal(cosineSimilarity([1, 2, 3], [2, 4, 6]), 1);
    assert.equal(cosineSimilarity([1, 0], [0, 5]), 0);
    assert.equal(cosineSimilarity([1, 1], [-1, -1]), -1);
    assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
    assert.ok(Math.abs(cosineSimilarity([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  });

  it('refuses vectors of different lengths (400 dimension_mismatch)', () => {
    assert.throws(
      () => cosineSimilarity([1, 2], [1, 2, 3]),
      (error: { status?: number; code?: string }) =>
        error.status === 400 && error.code === 'dimension_mismatch',
    );
  });

  it('the CLI summary lists every pair, most similar first, and nothing for one image', () => {
    const base = {
      model: 'm',
      engine: 'litert',
      image: { format: 'jpeg', width: 1, height: 1 },
      timings: { decodeMs: 0, inferenceMs: 0, totalMs: 0 },
      dims: 2,
    };
    const results = [
      { ...base, embedding: [1, 0] },
      { ...base, embedding: [0, 1] },
      { ...base, embedding: [0.6, 0.8] },
    ];
    const summarize = embedTask.cli.summarize;
    assert.ok(summarize);
    assert.equal(summarize(results.slice(0, 1), ['a']), undefined);
    assert.deepEqual(summarize(results, ['a', 'b', 'c'])?.split('\n'), [
      'cosine similarity:',
      '  0.8000  b  c',
      '  0.6000  a  c',
      '  0.0000  a  b',
    ]);
  });
});
