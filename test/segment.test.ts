/**
 * segment on real photos and the real built-in models (deeplab, selfie), through runTask.
 * Expectations were measured with LiteRT.js and checked by eye on the saved pictures
 * (written to a temporary folder; the test prints where).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { ModelLoadError, TfliteFnError } from '../src/errors.js';
import { createApp } from '../src/http/index.js';
import { parseDescriptor } from '../src/model/descriptor.js';
import { runTask } from '../src/tasks/run.js';
import { segmentTask } from '../src/tasks/segment/index.js';
import type { Segmentation } from '../src/tasks/segment/result.js';
import { CLI, IMAGES, photo } from './helpers.js';

const ARTEFACTS = mkdtempSync(join(tmpdir(), 'tflite-fn-segment-'));

function segment(name: string, model: string, raw: Record<string, unknown> = {}): Promise<Segmentation> {
  return runTask(segmentTask, photo(name), segmentTask.parseOptions(raw), { model });
}

function share(result: Segmentation, label: string): number {
  return result.classes.find((entry) => entry.label === label)?.fraction ?? 0;
}

/** Mask pixel at a point given as fractions of the width and height. */
function at(result: Segmentation, array: 'classes' | 'alpha', x: number, y: number): number {
  const { width, height } = result.mask;
  const index = Math.floor(y * (height - 1)) * width + Math.floor(x * (width - 1));
  return result.pixels[array][index] as number;
}

/** Pixel of a decoded picture at a point given as fractions of its size. */
async function pictureAt(bytes: Uint8Array, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const offset =
    (Math.floor(y * (info.height - 1)) * info.width + Math.floor(x * (info.width - 1))) * info.channels;
  return [...data.subarray(offset, offset + info.channels)];
}

async function saved(result: Segmentation, image: Buffer, format: string, name: string): Promise<Uint8Array> {
  const renderer = segmentTask.pictures?.[format];
  assert.ok(renderer, `picture ${format}`);
  const bytes = await renderer.render(image, result);
  const file = join(ARTEFACTS, `${name}-${format}.${renderer.contentType === 'image/png' ? 'png' : 'jpg'}`);
  writeFileSync(file, bytes);
  const meta = await sharp(bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [result.image.width, result.image.height], `${file} size`);
  return bytes;
}

function badOption(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof TfliteFnError &&
    error.status === 400 &&
    error.code === 'bad_option' &&
    pattern.test(error.message);
}

describe('segment with deeplab (PASCAL VOC classes)', () => {
  it('finds the person on grace_hopper.jpg, over the figure and not in the top corners', async (t) => {
    const result = await segment('grace_hopper.jpg', 'deeplab');
    // Measured 0.6665 (LiteRT): the figure, plus stray patches of the flag on the left.
    const person = share(result, 'person');
    assert.ok(person > 0.55 && person < 0.75, `person ${person}`);
    assert.equal(result.classes[0]?.label, 'person');
    assert.deepEqual(result.mask, { width: 513, height: 513, kind: 'classes' });
    assert.deepEqual([result.image.width, result.image.height], [517, 606]);
    assert.equal(at(result, 'classes', 0.5, 0.5), 15, 'the centre is person');
    assert.equal(at(result, 'classes', 0.5, 0.9), 15, 'the uniform is person');
    assert.equal(at(result, 'classes', 0.02, 0.02), 0, 'top-left corner is background');
    assert.equal(at(result, 'classes', 0.98, 0.02), 0, 'top-right corner is background');
    assert.equal(result.threshold, undefined);
    assert.equal(result.foreground.classes.length, 20, 'every class but the background');
    assert.ok(Math.abs(result.foreground.fraction - (1 - share(result, 'background'))) < 1e-3);

    const image = photo('grace_hopper.jpg');
    const mask = await saved(result, image, 'mask', 'deeplab-grace_hopper');
    assert.deepEqual(await pictureAt(mask, 0.5, 0.5), [192, 128, 128], 'person colour');
    assert.deepEqual(await pictureAt(mask, 0.98, 0.02), [0, 0, 0], 'background colour');
    const cutout = await saved(result, image, 'cutout', 'deeplab-grace_hopper');
    assert.equal((await pictureAt(cutout, 0.5, 0.5))[3], 255);
    assert.equal((await pictureAt(cutout, 0.98, 0.02))[3], 0);
    await saved(result, image, 'overlay', 'deeplab-grace_hopper');
    t.diagnostic(`pictures in ${ARTEFACTS}`);
  });

  it('keeps only the named classes in the cut-out', async () => {
    const result = await segment('pets.jpg', 'deeplab', { keep: 'person' });
    // pets.jpg is two dogs on grass: measured dog 0.134, no person.
    const dog = share(result, 'dog');
    assert.ok(dog > 0.08 && dog < 0.2, `dog ${dog}`);
    assert.equal(share(result, 'person'), 0);
    assert.deepEqual(result.foreground, { classes: ['person'], fraction: 0 });
    assert.ok(result.pixels.alpha.every((value) => value === 0));
    const dogs = await segment('pets.jpg', 'deeplab', { keep: 'dog' });
    assert.deepEqual(dogs.foreground, { classes: ['dog'], fraction: dog });
  });

  it('finds no person in food.jpg', async () => {
    const result = await segment('food.jpg', 'deeplab');
    assert.ok(share(result, 'person') < 0.01, JSON.stringify(result.classes));
    assert.ok(share(result, 'background') > 0.9, JSON.stringify(result.classes));
  });

  it('refuses a threshold (it has no probability to cut) and unknown classes, naming them', async () => {
    await assert.rejects(
      segment('grace_hopper.jpg', 'deeplab', { threshold: 0.5 }),
      badOption(/threshold.*deeplab/),
    );
    await assert.rejects(
      segment('grace_hopper.jpg', 'deeplab', { keep: 'person,unicorn' }),
      badOption(/'unicorn'/),
    );
  });

  it('answers JSON without the per-pixel arrays, and a short text', async () => {
    const result = await segment('grace_hopper.jpg', 'deeplab');
    const json = JSON.stringify(segmentTask.toJson?.(result));
    assert.ok(json.length < 4000, `JSON is ${json.length} bytes`);
    const parsed = JSON.parse(json) as Record<string, unknown>;
    assert.equal(parsed.pixels, undefined);
    assert.deepEqual(Object.keys(parsed).sort(), [
      'classes',
      'engine',
      'foreground',
      'image',
      'mask',
      'model',
      'timings',
    ]);
    assert.match(
      segmentTask.text(result),
      /^513x513 mask; the cut-out keeps \d+\.\d% of the photo\n +\d+\.\d% +person\n/,
    );
  });
});

describe('segment with selfie (person probability)', () => {
  it('finds the person on grace_hopper.jpg, over the figure and not in the top corners', async () => {
    const result = await segment('grace_hopper.jpg', 'selfie');
    // Measured 0.5775 (LiteRT): the figure alone, the flag left out.
    const person = share(result, 'person');
    assert.ok(person > 0.5 && person < 0.65, `person ${person}`);
    assert.deepEqual(result.mask, { width: 256, height: 256, kind: 'probability' });
    assert.equal(result.threshold, 0.5);
    assert.deepEqual(result.foreground, { classes: ['person'], fraction: person });
    assert.equal(at(result, 'classes', 0.5, 0.5), 1);
    assert.equal(at(result, 'alpha', 0.5, 0.5), 255);
    for (const [x, y] of [
      [0.02, 0.02],
      [0.98, 0.02],
    ] as const) {
      assert.equal(at(result, 'classes', x, y), 0, `corner ${x},${y}`);
      assert.equal(at(result, 'alpha', x, y), 0, `corner ${x},${y}`);
    }

    const image = photo('grace_hopper.jpg');
    const mask = await saved(result, image, 'mask', 'selfie-grace_hopper');
    assert.equal((await sharp(mask).metadata()).channels, 1, 'a grey PNG');
    // sharp hands grey back as RGB: three equal values.
    assert.deepEqual(await pictureAt(mask, 0.5, 0.5), [255, 255, 255], 'white person');
    assert.deepEqual(await pictureAt(mask, 0.02, 0.02), [0, 0, 0], 'black background');
    const cutout = await saved(result, image, 'cutout', 'selfie-grace_hopper');
    const centre = await pictureAt(cutout, 0.5, 0.5);
    assert.equal(centre.length, 4);
    assert.equal(centre[3], 255);
    assert.equal((await pictureAt(cutout, 0.02, 0.02))[3], 0);
    await saved(result, image, 'overlay', 'selfie-grace_hopper');
  });

  it('masks the upright photo: a JPEG stored sideways with an EXIF orientation gives the same answer', async () => {
    const upright = await segment('grace_hopper.jpg', 'selfie');
    // Stored turned a quarter to the left, tagged "turn right to view": upright it is the original.
    const sideways = await sharp(photo('grace_hopper.jpg'))
      .rotate(270)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const result = await runTask(segmentTask, sideways, {}, { model: 'selfie' });
    assert.deepEqual([result.image.width, result.image.height], [517, 606]);
    assert.ok(
      Math.abs(share(result, 'person') - share(upright, 'person')) < 0.01,
      `${share(result, 'person')}`,
    );
    const cutout = await saved(result, sideways, 'cutout', 'selfie-sideways');
    assert.equal((await pictureAt(cutout, 0.5, 0.5))[3], 255);
    assert.equal((await pictureAt(cutout, 0.02, 0.02))[3], 0);
  });

  it('counts fewer person pixels as the threshold rises', async () => {
    const [low, middle, high] = await Promise.all(
      [0.1, 0.5, 0.9].map(async (threshold) =>
        share(await segment('grace_hopper.jpg', 'selfie', { threshold }), 'person'),
      ),
    );
    assert.ok(
      (low as number) >= (middle as number) && (middle as number) >= (high as number),
      `${low} ${middle} ${high}`,
    );
    assert.ok((low as number) > (high as number), `${low} vs ${high}`);
  });

  it('cuts the person out instead with keep=background', async () => {
    const result = await segment('grace_hopper.jpg', 'selfie', { keep: 'background' });
    assert.equal(at(result, 'alpha', 0.5, 0.5), 0);
    assert.equal(at(result, 'alpha', 0.02, 0.02), 255);
    assert.ok(Math.abs(result.foreground.fraction - share(result, 'background')) < 1e-9);
  });

  it('finds few person pixels in food.jpg', async () => {
    const result = await segment('food.jpg', 'selfie');
    // Measured 0.0000.
    assert.ok(share(result, 'person') < 0.02, JSON.stringify(result.classes));
  });
});

describe('segment bad inputs', () => {
  it('refuses what is not an image with 415, and an empty body with 400', async () => {
    await assert.rejects(
      runTask(segmentTask, new TextEncoder().encode('not an image at all'), {}, { model: 'selfie' }),
      (error: unknown) =>
        error instanceof TfliteFnError && error.status === 415 && error.code === 'unsupported_image',
    );
    await assert.rejects(
      runTask(segmentTask, new Uint8Array(0), {}, { model: 'selfie' }),
      (error: unknown) =>
        error instanceof TfliteFnError && error.status === 400 && error.code === 'empty_image',
    );
  });

  it('refuses a model of another task with 400 wrong_task', async () => {
    await assert.rejects(
      runTask(segmentTask, photo('grace_hopper.jpg'), {}, { model: 'imagenet' }),
      (error: unknown) =>
        error instanceof TfliteFnError && error.status === 400 && error.code === 'wrong_task',
    );
  });
});

describe('segment load-time checks (real selfie model, descriptor variants)', () => {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@mediapipe/selfie_segmentation/selfie_segmentation.tflite');
  const base = {
    id: 'selfie-variant',
    task: 'segment',
    model: { file: 'npm:@mediapipe/selfie_segmentation/selfie_segmentation.tflite' },
    input: { width: 256, height: 256, format: 'rgb32f', resize: 'fill' },
    segment: { output: 'activation_10', classes: ['background', 'person'] },
  };

  async function check(change: (descriptor: typeof base) => Record<string, unknown>) {
    const engine = await LiteRtCompiledModelAdapter.compile(new Uint8Array(readFileSync(file)), 'selfie');
    try {
      const descriptor = parseDescriptor(change(structuredClone(base)), 'selfie-variant.yaml');
      return segmentTask.prepareModel({
        descriptor,
        engine,
        labels: [],
        tflite: async () => new Uint8Array(),
      });
    } finally {
      engine.dispose();
    }
  }

  function loadError(pattern: RegExp) {
    return (error: unknown) => error instanceof ModelLoadError && pattern.test(error.message);
  }

  it('accepts the built-in shape and reads the mask size from the output', async () => {
    const state = await check((d) => d);
    assert.deepEqual(
      { ...state, classes: [...state.classes] },
      {
        outputIndex: 0,
        kind: 'probability',
        width: 256,
        height: 256,
        channels: 1,
        classes: ['background', 'person'],
        background: 0,
        threshold: 0.5,
      },
    );
  });

  it('refuses a centre crop: the mask must cover the whole photo', async () => {
    await assert.rejects(
      check((d) => ({ ...d, input: { ...d.input, resize: 'cover' } })),
      loadError(/resize: fill/),
    );
  });

  it('refuses an output that is not there, naming the ones that are', async () => {
    await assert.rejects(
      check((d) => ({ ...d, segment: { ...d.segment, output: 'logits' } })),
      loadError(/'logits'.*'activation_10'/),
    );
  });

  it('refuses upsample on a one-channel probability', async () => {
    await assert.rejects(
      check((d) => ({ ...d, segment: { ...d.segment, upsample: 'align_corners' } })),
      loadError(/upsample applies to uint8 class scores/),
    );
  });

  it('refuses class names that do not fit a one-channel output', async () => {
    await assert.rejects(
      check((d) => ({ ...d, segment: { ...d.segment, classes: ['background', 'person', 'dog'] } })),
      loadError(/2 class names.*names 3/),
    );
    await assert.rejects(
      check((d) => ({ ...d, segment: { ...d.segment, background: 'sky' } })),
      loadError(/'sky' is not one of its classes/),
    );
    await assert.rejects(
      check((d) => ({ ...d, segment: { ...d.segment, classes: ['person', 'background'] } })),
      loadError(/first class is the background/),
    );
  });
});

describe('segment on the surfaces: the CLI and POST /segment', () => {
  it('tflite-fn segment FILE --format cutout --out x.png writes the cut-out; the default is text', async () => {
    const out = join(ARTEFACTS, 'cli-cutout.png');
    const grace = join(IMAGES, 'grace_hopper.jpg');
    const cut = spawnSync(process.execPath, [
      CLI,
      'segment',
      grace,
      '-m',
      'selfie',
      '--format',
      'cutout',
      '--out',
      out,
    ]);
    assert.equal(cut.status, 0, String(cut.stderr));
    const meta = await sharp(readFileSync(out)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 517, 606, 4]);
    const text = spawnSync(process.execPath, [CLI, 'segment', grace], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^513x513 mask; the cut-out keeps \d+\.\d% of the photo\n +\d+\.\d% +person\n/);
    const bad = spawnSync(process.execPath, [CLI, 'segment', grace, '-m', 'selfie', '--threshold', '2'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2, 'a usage error');
    assert.match(bad.stderr, /threshold must be a number from 0 to 1/);
  });

  it('POST /segment answers JSON, the pictures by format or Accept, and 400 for a bad option', async () => {
    const app = createApp();
    const post = (query: string, accept?: string) =>
      app.fetch(
        new Request(`http://localhost/segment${query}`, {
          method: 'POST',
          body: photo('grace_hopper.jpg'),
          headers: { 'content-type': 'image/jpeg', ...(accept ? { accept } : {}) },
        }),
      );
    const json = await post('?model=selfie');
    assert.equal(json.status, 200);
    const body = (await json.json()) as { classes: { label: string; fraction: number }[]; pixels?: unknown };
    assert.equal(body.classes[0]?.label, 'person');
    assert.equal(body.pixels, undefined);
    const cutout = await post('?model=selfie&format=cutout');
    assert.equal(cutout.headers.get('content-type'), 'image/png');
    assert.equal((await sharp(new Uint8Array(await cutout.arrayBuffer())).metadata()).channels, 4);
    const mask = await post('', 'image/png');
    assert.equal(mask.headers.get('content-type'), 'image/png');
    assert.deepEqual(await pictureAt(new Uint8Array(await mask.arrayBuffer()), 0.5, 0.5), [192, 128, 128]);
    const overlay = await post('?format=overlay');
    assert.equal(overlay.headers.get('content-type'), 'image/jpeg');
    const bad = await post('?model=selfie&threshold=7');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_option');
  });
});
