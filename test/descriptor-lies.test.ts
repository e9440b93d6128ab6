/**
 * User model descriptors that lie about their model, for every task: a cut at a tensor the
 * model does not have or that is not a suffix of the graph, an objects descriptor on a model
 * without TFLite_Detection_PostProcess (or not cut before it), segment/pose/embed descriptors
 * on models whose outputs are not masks, keypoints or vectors, labels that do not cover the
 * classes. Each is a load error a client can read (500 model_load_failed, naming the model
 * and the problem, no host path), and the same process keeps serving the other models.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { createApp } from '../src/http/index.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { modelCacheDir, packageRoot } from '../src/store/paths.js';
import { photo } from './helpers.js';

const CLASSIFIER = 'mobilenet_v1_0.25_128_quant.tflite';
const SSD = 'ssd_mobilenet_v1_coco_quant_detect.tflite';
const DEEPLAB = 'deeplabv3_mnv2_dm05_pascal_quant.tflite';
const MOVENET = 'movenet_single_pose_lightning_ptq.tflite';
/** The pin of the built-in imagenet model (MobileNet V2 224), whose conversion set-up stores. */
const IMAGENET_SHA256 = '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776';

interface Lie {
  readonly task: string;
  readonly file: string;
  readonly size: number;
  readonly outputs?: readonly string[];
  /** The task's section (YAML lines, indented under it). */
  readonly section: string;
  /** What the error message must say. */
  readonly problem: RegExp;
}

const LIES: Record<string, Lie> = {
  'cut-at-a-missing-tensor': {
    task: 'classify',
    file: CLASSIFIER,
    size: 128,
    outputs: ['no_such_tensor'],
    section: 'output:\n  labels:\n    file: imagenet_labels.txt',
    problem: /no tensor named 'no_such_tensor'/,
  },
  'cut-not-a-suffix': {
    task: 'objects',
    file: SSD,
    size: 300,
    outputs: ['BoxPredictor_0/ClassPredictor/BiasAdd'],
    section: 'objects:\n  labels:\n    file: coco_labels.txt',
    problem:
      /cannot stop at BoxPredictor_0\/ClassPredictor\/BiasAdd.*only the operators after the cut can be dropped/,
  },
  'objects-on-a-classifier': {
    task: 'objects',
    file: CLASSIFIER,
    size: 128,
    section: 'objects:\n  labels:\n    file: coco_labels.txt',
    problem: /TFLite_Detection_PostProcess/,
  },
  'objects-not-cut': {
    task: 'objects',
    file: SSD,
    size: 300,
    section: 'objects:\n  labels:\n    file: coco_labels.txt',
    problem: /model\.outputs/,
  },
  'objects-labels-too-few': {
    task: 'objects',
    file: SSD,
    size: 300,
    outputs: ['Squeeze', 'convert_scores'],
    section: 'objects:\n  labels:\n    file: ten-labels.txt',
    problem: /90 classes.*10/,
  },
  'segment-on-a-classifier': {
    task: 'segment',
    file: CLASSIFIER,
    size: 128,
    section: 'segment:\n  classes: [background, person]',
    problem: /\[1, 1001\]/,
  },
  'segment-classes-too-few': {
    task: 'segment',
    file: DEEPLAB,
    size: 513,
    outputs: ['ResizeBilinear_2'],
    section: 'segment:\n  output: ResizeBilinear_2\n  classes: [background, person, cat]',
    problem: /21 classes.*3/,
  },
  'pose-on-a-classifier': {
    task: 'pose',
    file: CLASSIFIER,
    size: 128,
    section: 'pose:\n  threshold: 0.3',
    problem: /\[1, 1001\].*\[1, 1, 17, 3\]/,
  },
  'embed-on-a-segmenter': {
    task: 'embed',
    file: DEEPLAB,
    size: 513,
    outputs: ['ResizeBilinear_2'],
    section: '',
    problem: /\[1, 513, 513, 21\].*not a vector/,
  },
  'embed-on-a-pose-model': {
    task: 'embed',
    file: MOVENET,
    size: 192,
    section: '',
    problem: /\[1, 1, 17, 3\].*not a vector/,
  },
  'classify-labels-too-few': {
    task: 'classify',
    file: CLASSIFIER,
    size: 128,
    section: 'output:\n  labels:\n    file: ten-labels.txt',
    problem: /1001 scores.*10 labels/,
  },
};

function descriptor(id: string, lie: Lie): string {
  return [
    `id: ${id}`,
    `task: ${lie.task}`,
    'model:',
    `  file: ${lie.file}`,
    ...(lie.outputs ? [`  outputs: ${JSON.stringify(lie.outputs)}`] : []),
    'input:',
    `  width: ${lie.size}`,
    `  height: ${lie.size}`,
    '  format: rgb8',
    '  resize: fill',
    lie.section,
    '',
  ].join('\n');
}

function userModels(): string {
  const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-lies-'));
  for (const file of [CLASSIFIER, SSD, DEEPLAB, MOVENET, 'imagenet_labels.txt', 'coco_labels.txt'])
    copyFileSync(join(modelCacheDir(), file), join(folder, file));
  writeFileSync(
    join(folder, 'ten-labels.txt'),
    `${Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n')}\n`,
  );
  for (const [id, lie] of Object.entries(LIES))
    writeFileSync(join(folder, `${id}.yaml`), descriptor(id, lie));
  // Not a lie: a classifier cut at its logits is an embedding model (1001-d, zero point 96).
  const logits = { task: 'embed', file: CLASSIFIER, size: 128, section: '', problem: /^$/ };
  writeFileSync(
    join(folder, 'logits.yaml'),
    descriptor('logits', { ...logits, outputs: ['MobilenetV1/Logits/SpatialSqueeze1'] }),
  );
  // A lie about the file: imagenet's pinned sha256 on another model (a copied descriptor whose
  // file was changed and its pin not).
  const classifier = { task: 'classify', file: CLASSIFIER, size: 224, problem: /sha256/ };
  const section = 'output:\n  labels:\n    file: imagenet_labels.txt';
  const pinned = descriptor('pin-of-another-model', { ...classifier, section }).replace(
    `  file: ${CLASSIFIER}\n`,
    `  file: ${CLASSIFIER}\n  sha256: ${IMAGENET_SHA256}\n`,
  );
  writeFileSync(join(folder, 'pin-of-another-model.yaml'), pinned);
  return folder;
}

describe('descriptors that lie about their model', async () => {
  const folder = userModels();
  const app = createApp({ catalog: new ModelCatalog({ dirs: [folder], warmUp: false }) });
  const image = await sharp(photo('grace_hopper.jpg')).resize(96, 96).jpeg().toBuffer();
  const post = (path: string) =>
    app.fetch(new Request(`http://tflite-fn.test${path}`, { method: 'POST', body: image }));

  for (const [id, lie] of Object.entries(LIES)) {
    it(`${id} (${lie.task}): 500 model_load_failed naming the model and the problem; other models still serve`, async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await post(`/${lie.task}?model=${id}`);
        const { error } = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(response.status, 500, `${id}: ${error.message}`);
        assert.equal(error.code, 'model_load_failed');
        assert.ok(error.message.includes(id), `names the model: ${error.message}`);
        assert.match(error.message, lie.problem);
        for (const hostPath of [folder, packageRoot(), homedir(), tmpdir()])
          assert.ok(!error.message.includes(hostPath), `host path in: ${error.message}`);
        assert.doesNotMatch(error.message, /\n\s+at |node:internal/, 'no stack trace');
      }
      const good = await post(`/${lie.task}`);
      assert.equal(good.status, 200, `${lie.task}'s default model after ${id}: ${await good.text()}`);
    });
  }

  it("an honest cut: a classifier cut at its logits embeds with the logits' own zero point, not its last output's", async () => {
    const response = await post('/embed?model=logits');
    const answer = (await response.json()) as { dims: number; embedding: number[] };
    assert.equal(response.status, 200, JSON.stringify(answer));
    assert.equal(answer.dims, 1001);
    // Logits have both signs; read with the softmax output's zero point (0) instead of the
    // logits' (96), every component would be >= 0.
    const negative = answer.embedding.filter((value) => value < 0).length;
    assert.ok(negative > 100, `${negative} negative components`);
  });

  it("a pinned sha256 that is not its file's is refused on every engine, not served as the model it pins", async () => {
    const response = await post('/classify?model=pin-of-another-model');
    const answer = (await response.json()) as { engine?: string; error?: { code: string; message: string } };
    assert.equal(response.status, 500, `served on ${answer.engine}: the converted model of another file`);
    assert.equal(answer.error?.code, 'model_load_failed');
    assert.match(answer.error?.message ?? '', /pin-of-another-model.*sha256/);
  });
});
