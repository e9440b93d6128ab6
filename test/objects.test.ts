/**
 * The objects task end to end through runTask, on real photos with the built-in 'objects'
 * model (SSD MobileNet v1, COCO). Expectations were measured and checked by eye on the
 * annotated photos; each run saves them again in a temporary folder (printed) to look at.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
// The library's own exports: what a user of tflite-fn imports.
import { type ObjectBox, type ObjectsResult, objectsTask, runTask } from '../src/index.js';
import { ModelCatalog } from '../src/model/catalog.js';
import type { RawOptions } from '../src/tasks/task.js';
import { readTfliteModel } from '../src/tflite/read.js';
import { meanAbsDiff, photo, SHARED_MODELS } from './helpers.js';

const ARTEFACTS = mkdtempSync(join(tmpdir(), 'tflite-fn-objects-'));
console.log(`objects: annotated photos in ${ARTEFACTS}`);

// The engine as configured (auto: the verified native conversion when there is one).
const catalog = new ModelCatalog();
after(() => catalog.dispose());

function objects(image: Uint8Array, raw: RawOptions = {}, model?: string): Promise<ObjectsResult> {
  return runTask(objectsTask, image, objectsTask.parseOptions(raw), { catalog, model });
}

function iou(a: ObjectBox, b: ObjectBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

function bestMatch(result: ObjectsResult, label: string, box: ObjectBox): number {
  return Math.max(0, ...result.objects.filter((o) => o.label === label).map((o) => iou(o.box, box)));
}

async function saveAnnotated(name: string, image: Uint8Array, result: ObjectsResult): Promise<Buffer> {
  const drawn = await objectsTask.pictures?.png?.render(image, result);
  assert.ok(drawn);
  writeFileSync(join(ARTEFACTS, `${name}.png`), drawn);
  return Buffer.from(drawn);
}

function assertBestFirstInside(result: ObjectsResult): void {
  const scores = result.objects.map((o) => o.score);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    'best first',
  );
  for (const { box } of result.objects) {
    assert.ok(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0, JSON.stringify(box));
    assert.ok(
      box.x + box.width <= result.image.width + 0.1 && box.y + box.height <= result.image.height + 0.1,
    );
  }
}

// Measured (LiteRT, default threshold 0.5) and checked by eye on the annotated photos.
const KITE_GREEN = { x: 598.2, y: 73.4, width: 71.8, height: 67.7 }; // the big green kite, top centre
const KITE_WHITE = { x: 281.8, y: 236, width: 24.1, height: 49.3 }; // the white kite, upper left
const HOODED_WALKER = { x: 222.9, y: 702.8, width: 54, height: 137.8 }; // dark hood, bottom left
const PETS_DOGS = [
  { x: 119.6, y: 48.6, width: 129.6, height: 246.3 }, // the grey dog, left
  { x: 344.4, y: 161.6, width: 151.8, height: 207 }, // the Boston terrier, right
];

describe('objects task', () => {
  it('kite_and_cold.jpg: kites in the sky and people on the beach, nothing else', async () => {
    const image = photo('kite_and_cold.jpg');
    const result = await objects(image);
    await saveAnnotated('kite_and_cold', image, result);
    assert.equal(result.model, 'objects');
    assert.deepEqual(result.image, { format: 'jpeg', width: 1352, height: 900 });
    const count = (label: string) => result.objects.filter((o) => o.label === label).length;
    // 11 measured: 6 kites, 5 people; a score step either way must not break the test.
    assert.ok(count('kite') >= 4 && count('kite') <= 7, `${count('kite')} kites`);
    assert.ok(count('person') >= 4 && count('person') <= 7, `${count('person')} people`);
    assert.equal(count('kite') + count('person'), result.objects.length, 'only kites and people');
    assert.ok(bestMatch(result, 'kite', KITE_GREEN) > 0.8);
    assert.ok(bestMatch(result, 'kite', KITE_WHITE) > 0.8);
    assert.ok(bestMatch(result, 'person', HOODED_WALKER) > 0.8);
    for (const object of result.objects) {
      assert.equal(object.class, object.label === 'kite' ? 37 : 0);
      assert.ok(object.score >= 0.5 && object.score <= 1);
    }
    assert.ok(result.objects.length <= 10, "at most the model's max_detections (10) by default");
    assertBestFirstInside(result);
  });

  it('pets.jpg: the two dogs, and nothing else', async () => {
    const image = photo('pets.jpg');
    const result = await objects(image);
    await saveAnnotated('pets', image, result);
    assert.deepEqual(
      result.objects.map((o) => o.label),
      ['dog', 'dog'],
    );
    for (const box of PETS_DOGS) assert.ok(bestMatch(result, 'dog', box) > 0.9, JSON.stringify(box));
    for (const object of result.objects) assert.ok(Math.abs(object.score - 0.745) < 0.03, `${object.score}`);
    assert.match(objectsTask.text(result), /^dog 75\.0% at x=119\.6 y=48\.6, 129\.6x246\.3\ndog /);
  });

  it('threshold and max: a lower threshold finds more, max keeps the best few, defaults from the model', async () => {
    const image = photo('kite_and_cold.jpg');
    const byDefault = await objects(image);
    const loose = await objects(image, { threshold: '0.3', max: '100' });
    await saveAnnotated('kite_and_cold-threshold-0.3', image, loose);
    assert.ok(loose.objects.length > byDefault.objects.length + 10, `${loose.objects.length} at 0.3`);
    assert.ok(loose.objects.every((o) => o.score >= 0.3));
    const three = await objects(image, { max: 3 });
    assert.deepEqual(three.objects, byDefault.objects.slice(0, 3));
    // Without a threshold the model's own (1e-8) and max_detections (10) decide: ten boxes.
    const all = await objects(image, { threshold: 0 });
    assert.equal(all.objects.length, 10);
    assertBestFirstInside(loose);
  });

  it('the same objects on both engines (LiteRT and the verified native conversion of the cut graph)', async () => {
    const engines = ['litert', 'ort'] as const;
    const results = [];
    for (const engine of engines) {
      const own = new ModelCatalog({ engine });
      try {
        results.push(await runTask(objectsTask, photo('kite_and_cold.jpg'), {}, { catalog: own }));
      } finally {
        await own.dispose();
      }
    }
    assert.deepEqual(
      results.map((r) => r.engine),
      engines,
    );
    assert.deepEqual(results[0]?.objects, results[1]?.objects);
  });

  it('boxes are in the upright photo: an EXIF-rotated copy gives the same dogs, turned', async () => {
    const stored = await sharp(photo('pets.jpg')).rotate(270).jpeg({ quality: 95 }).toBuffer();
    const tagged = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const result = await objects(tagged);
    assert.deepEqual([result.image.width, result.image.height], [512, 430]);
    for (const box of PETS_DOGS) assert.ok(bestMatch(result, 'dog', box) > 0.8, JSON.stringify(box));
  });

  it('the annotated pictures: the photo at its size, in JPEG and PNG, with the boxes drawn', async () => {
    const image = photo('pets.jpg');
    const result = await objects(image);
    for (const format of ['jpeg', 'png'] as const) {
      const renderer = objectsTask.pictures?.[format];
      assert.ok(renderer);
      const meta = await sharp(await renderer.render(image, result)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], [format, 512, 430]);
    }
    const original = await sharp(image).removeAlpha().raw().toBuffer();
    const boxed = await sharp(await saveAnnotated('pets-check', image, result))
      .removeAlpha()
      .raw()
      .toBuffer();
    assert.ok(meanAbsDiff(original, boxed) > 1, 'the boxes changed pixels');
    const none = await objectsTask.pictures?.png?.render(image, { ...result, objects: [] });
    assert.ok(none);
    const unchanged = await sharp(none).removeAlpha().raw().toBuffer();
    assert.ok(meanAbsDiff(original, unchanged) < 0.01, 'nothing drawn without objects');
  });

  it('bad input: options out of range (400), not an image (415), a classifier model (400 wrong_task)', async () => {
    const image = photo('pets.jpg');
    for (const raw of [
      { threshold: '1.5' },
      { threshold: '-1' },
      { max: '0' },
      { max: '101' },
      { max: '2.5' },
    ]) {
      await assert.rejects(
        async () => objects(image, raw),
        (error: { status?: number; code?: string }) => error.status === 400 && error.code === 'bad_option',
        JSON.stringify(raw),
      );
    }
    await assert.rejects(
      objects(new TextEncoder().encode('not an image, just text')),
      (error: { status?: number; code?: string }) =>
        error.status === 415 && error.code === 'unsupported_image',
    );
    await assert.rejects(
      objects(image, {}, 'imagenet'),
      (error: { status?: number; code?: string }) => error.status === 400 && error.code === 'wrong_task',
    );
  });
});

describe('objects models refused at load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-objects-models-'));
  const ssd = new Uint8Array(readFileSync(join(SHARED_MODELS, 'ssd_mobilenet_v1_coco_quant_detect.tflite')));
  copyFileSync(join(SHARED_MODELS, 'coco_labels.txt'), join(dir, 'coco_labels.txt'));
  const descriptor = (id: string, file: string, outputs = '[Squeeze, convert_scores]') =>
    [
      `id: ${id}`,
      'task: objects',
      `model: { file: ${file}, outputs: ${outputs} }`,
      'input: { width: 300, height: 300, format: rgb8, resize: fill }',
      'objects: { labels: { file: coco_labels.txt } }',
    ].join('\n');
  mkdirSync(dir, { recursive: true });

  it('a model whose post-processing options are garbled: a clear error at load, not per request', async () => {
    const garbled = ssd.slice();
    const options = readTfliteModel(ssd, 'ssd').subgraphs[0]?.operators.at(-1)?.customOptions;
    assert.ok(options);
    const at = Buffer.from(ssd).indexOf(Buffer.from(options));
    garbled.fill(0xff, at, at + options.length);
    writeFileSync(join(dir, 'garbled.tflite'), garbled);
    writeFileSync(join(dir, 'garbled.yaml'), descriptor('garbled', 'garbled.tflite'));
    const withGarbled = new ModelCatalog({ dirs: [dir], engine: 'litert' });
    try {
      await assert.rejects(
        runTask(objectsTask, photo('pets.jpg'), {}, { catalog: withGarbled, model: 'garbled' }),
        (error: { status?: number; code?: string; message?: string }) =>
          error.status === 500 &&
          error.code === 'model_load_failed' &&
          /options of TFLite_Detection_PostProcess in model 'garbled' cannot be read/.test(
            error.message ?? '',
          ),
      );
    } finally {
      await withGarbled.dispose();
    }
  });

  it('a model cut elsewhere than at the operator inputs: refused, saying where to cut', async () => {
    writeFileSync(join(dir, 'ssd.tflite'), ssd);
    // Before the LOGISTIC: raw class logits instead of the scores the operator takes.
    writeFileSync(join(dir, 'miscut.yaml'), descriptor('miscut', 'ssd.tflite', '[Squeeze, concat_1]'));
    // The right tensors in the other order: found by name, so it works.
    writeFileSync(
      join(dir, 'swapped.yaml'),
      descriptor('swapped', 'ssd.tflite', '[convert_scores, Squeeze]'),
    );
    const models = new ModelCatalog({ dirs: [dir], engine: 'litert' });
    try {
      await assert.rejects(
        runTask(objectsTask, photo('pets.jpg'), {}, { catalog: models, model: 'miscut' }),
        (error: { status?: number; message?: string }) =>
          error.status === 500 && /no output 'convert_scores'.*model\.outputs/.test(error.message ?? ''),
      );
      const swapped = await runTask(
        objectsTask,
        photo('pets.jpg'),
        {},
        { catalog: models, model: 'swapped' },
      );
      for (const box of PETS_DOGS) assert.ok(bestMatch(swapped, 'dog', box) > 0.99);
    } finally {
      await models.dispose();
    }
  });
});
