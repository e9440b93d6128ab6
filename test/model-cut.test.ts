/**
 * A graph cut (descriptor `model.outputs`): the served model stops at the named tensors, on
 * both engines, and everything keyed by the model (its conversion, its report, the engine
 * plan) is keyed by the cut. Checked on the tiny ImageNet MobileNet cut before its softmax.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { convertAndVerify } from '../src/convert/prepare.js';
import { readReport } from '../src/convert/store.js';
import { classify, DescriptorError, ModelCatalog, parseDescriptor } from '../src/index.js';
import { sha256Hex } from '../src/model/model-file.js';
import { servedModelKey } from '../src/model/served-model.js';
import { photo, SHARED_MODELS } from './helpers.js';

const FILE = 'mobilenet_v1_0.25_128_quant.tflite';
const LOGITS = 'MobilenetV1/Logits/SpatialSqueeze1';
const POOLED = 'MobilenetV1/Logits/AvgPool_1a/AvgPool';
const CUT = [LOGITS, POOLED];

/** A descriptor folder with the model cut at its logits (and the pooled features), labels beside. */
function cutModelFolder(): { dir: string; sha256: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-cut-'));
  copyFileSync(join(SHARED_MODELS, FILE), join(dir, FILE));
  copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(dir, 'imagenet_labels.txt'));
  const sha256 = sha256Hex(readFileSync(join(dir, FILE)));
  writeFileSync(
    join(dir, 'small-cut.yaml'),
    `task: classify
model:
  file: ${FILE}
  sha256: ${sha256}
  outputs: [${CUT.map((name) => `'${name}'`).join(', ')}]
input: { name: input, width: 128, height: 128 }
output: { name: '${LOGITS}', labels: { file: imagenet_labels.txt } }
`,
  );
  return { dir, sha256 };
}

describe('a graph cut (model.outputs)', () => {
  const { dir, sha256 } = cutModelFolder();

  it('is part of the descriptor: a list of tensor names, not empty', () => {
    const base = { input: { width: 8, height: 8 }, output: { labels: { file: 'l' } } };
    const d = parseDescriptor({ ...base, model: { file: 'm', outputs: ['a', 'b'] } }, 'm.yaml');
    assert.deepEqual(d.model.outputs, ['a', 'b']);
    assert.throws(
      () => parseDescriptor({ ...base, model: { file: 'm', outputs: [] } }, 'm.yaml'),
      DescriptorError,
    );
    assert.throws(() => parseDescriptor({ ...base, model: { file: 'm', cut: ['a'] } }, 'm.yaml'), /model/);
  });

  it('has its own key: the whole file keeps its sha256, each list of outputs (in order) gets another', () => {
    assert.equal(servedModelKey(sha256, undefined), sha256);
    const key = servedModelKey(sha256, CUT);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.notEqual(key, sha256);
    assert.notEqual(key, servedModelKey(sha256, [LOGITS]));
    assert.notEqual(key, servedModelKey(sha256, [POOLED, LOGITS]));
  });

  it('runs on LiteRT with the named outputs, in order, and answers as the whole model does', async () => {
    const catalog = new ModelCatalog({ dirs: [dir], warmUp: false, engine: 'litert' });
    try {
      const loaded = await catalog.load('small-cut');
      assert.deepEqual(
        loaded.engine.outputs.map((output) => output.name),
        CUT,
      );
      const cut = await classify(photo('grace_hopper.jpg'), { model: 'small-cut', catalog });
      const whole = await classify(photo('grace_hopper.jpg'), { model: 'imagenet-small', catalog });
      assert.equal(cut.label, whole.label);
      // The cut stops before the softmax: scores are the logits' uint8 values, not the probabilities.
      assert.notEqual(cut.score, whole.score);
    } finally {
      await catalog.dispose();
    }
  });

  it('set-up converts the cut under its own key; onnxruntime runs it with the same outputs and answer', async () => {
    const catalog = new ModelCatalog({ dirs: [dir], warmUp: false, engine: 'auto' });
    const wholeReport = readReport(sha256);
    try {
      const entry = catalog.entry('small-cut');
      const report = await convertAndVerify(entry.descriptor, readFileSync(join(dir, FILE)), { force: true });
      assert.equal(report.ok, true, report.message);
      assert.equal(report.tfliteSha256, servedModelKey(sha256, CUT));
      assert.deepEqual(report.cut, { fileSha256: sha256, outputs: CUT });
      assert.deepEqual(
        report.outputs.map((output) => output.name),
        CUT,
      );
      assert.equal(report.verification?.top1Agreement, report.verification?.photos);
      assert.deepEqual(readReport(sha256), wholeReport, "the whole model's conversion is another file");

      assert.equal(catalog.plannedEngine('small-cut').engine, 'ort');
      const loaded = await catalog.load('small-cut');
      assert.equal(loaded.engineName, 'ort');
      assert.deepEqual(
        loaded.engine.outputs.map((output) => output.name),
        CUT,
      );
      const result = await classify(photo('grace_hopper.jpg'), { model: 'small-cut', catalog });
      assert.equal(result.engine, 'ort');
      const litert = new ModelCatalog({ dirs: [dir], warmUp: false, engine: 'litert' });
      const reference = await classify(photo('grace_hopper.jpg'), { model: 'small-cut', catalog: litert });
      await litert.dispose();
      assert.equal(result.label, reference.label);
    } finally {
      await catalog.dispose();
    }
  });
});
