import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { flatPng } from '../bench/hostile-inputs.js';
import { annotate, type Detections, detect, type Face } from '../src/detect.js';
import { type BadRequestError, classify, UnsupportedImageError } from '../src/index.js';
import { CLI, IMAGES, meanAbsDiff, photo } from './helpers.js';

type Box = Face['box'];

function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Measured with the full-range model and checked by eye on the annotated photo. */
const FACE_JPG_FRONT = [
  { x: 123.7, y: 91.5, width: 109, height: 109 }, // left man, glasses
  { x: 246.3, y: 58, width: 109.8, height: 109.8 }, // right man
];

function bestMatch(faces: readonly Face[], box: Box): number {
  return Math.max(0, ...faces.map((face) => iou(face.box, box)));
}

describe('face detection', () => {
  it('face.jpg: finds both faces in front (the two behind are a bonus)', async () => {
    const result = await detect(photo('face.jpg'));
    assert.equal(result.model, 'faces');
    for (const box of FACE_JPG_FRONT)
      assert.ok(bestMatch(result.faces, box) > 0.7, `front face at ${JSON.stringify(box)}`);
    assert.ok(result.faces.length >= 2 && result.faces.length <= 4, `${result.faces.length} faces`);
    for (const face of result.faces) {
      assert.equal(face.landmarks.length, 6);
      assert.ok(face.score >= 0.6 && face.score <= 1);
      const [rightEye, leftEye] = face.landmarks;
      assert.ok(
        rightEye && leftEye && rightEye.y > face.box.y && rightEye.y < face.box.y + face.box.height,
        'eyes inside the box',
      );
    }
  });

  it('the short-range model finds the two front faces too', async () => {
    const result = await detect(photo('face.jpg'), { model: 'faces-short' });
    for (const box of FACE_JPG_FRONT) assert.ok(bestMatch(result.faces, box) > 0.5);
  });

  it('grace_hopper.jpg: exactly one face, none on the flag', async () => {
    const result = await detect(photo('grace_hopper.jpg'));
    assert.equal(result.faces.length, 1);
    assert.ok(iou((result.faces[0] as Face).box, { x: 160, y: 120, width: 210, height: 210 }) > 0.7);
  });

  it('hot_dog.jpg: no face', async () => {
    assert.equal((await detect(photo('hot_dog.jpg'))).faces.length, 0);
  });

  it('solvay.jpg: 27 or more of the 29 faces, no false positives, thanks to tiling', async () => {
    const result = await detect(photo('solvay.jpg'));
    assert.ok(result.faces.length >= 27 && result.faces.length <= 29, `${result.faces.length} faces`);
    assert.ok(result.tiling.passes > 1 && result.tiling.tile > 0);
    for (const face of result.faces) {
      // Every face in this photo is 20-35 px wide: anything else would be a false positive.
      assert.ok(face.box.width > 15 && face.box.width < 45, `box ${JSON.stringify(face.box)}`);
    }
    for (const [i, a] of result.faces.entries()) {
      for (const b of result.faces.slice(i + 1)) assert.ok(iou(a.box, b.box) < 0.3, 'one box per face');
    }
    const whole = await detect(photo('solvay.jpg'), { tiling: false });
    assert.ok(whole.faces.length < 10, `one pass alone finds ${whole.faces.length}`);
  });

  it('boxes are in the upright photo: an EXIF-rotated copy gives the same faces, turned', async () => {
    const stored = await sharp(photo('face.jpg')).rotate(270).jpeg({ quality: 95 }).toBuffer();
    const tagged = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const result = await detect(tagged);
    assert.deepEqual([result.image.width, result.image.height], [512, 355]);
    for (const box of FACE_JPG_FRONT) assert.ok(bestMatch(result.faces, box) > 0.6);
  });

  it("extreme aspect ratios: the call answers and the image size is the photo's own, on both axes", async () => {
    for (const [width, height] of [
      [100_000, 10],
      [1, 1_000_000],
    ] as const) {
      const result = await detect(await flatPng(width, height));
      assert.deepEqual([result.image.width, result.image.height], [width, height]);
      assert.equal(result.faces.length, 0);
    }
  });

  it('a face in a long strip (a photo padded to a banner or a column): the box lands on the face', async () => {
    const grace = photo('grace_hopper.jpg');
    const face = { x: 160, y: 120, width: 210, height: 210 }; // in grace_hopper.jpg, as above
    for (const strip of [
      { width: 4136, height: 606, left: 3000, top: 0 },
      { width: 517, height: 4000, left: 0, top: 3000 },
    ]) {
      const image = await sharp({
        create: { width: strip.width, height: strip.height, channels: 3, background: '#777777' },
      })
        .composite([{ input: grace, left: strip.left, top: strip.top }])
        .jpeg({ quality: 95 })
        .toBuffer();
      const result = await detect(image);
      assert.equal(result.faces.length, 1, `${strip.width}x${strip.height}: ${result.faces.length} faces`);
      const expected = { ...face, x: face.x + strip.left, y: face.y + strip.top };
      const found = (result.faces[0] as Face).box;
      assert.ok(iou(found, expected) > 0.7, `${JSON.stringify(found)} vs ${JSON.stringify(expected)}`);
    }
  });

  it('the annotated photo decodes, has the input size, and has boxes drawn on it', async () => {
    const image = photo('face.jpg');
    const result = await detect(image);
    for (const format of ['jpeg', 'png'] as const) {
      const drawn = await annotate(image, result, format);
      const meta = await sharp(drawn).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], [format, 512, 355]);
    }
    const original = await sharp(image).removeAlpha().raw().toBuffer();
    const boxed = await sharp(await annotate(image, result, 'png'))
      .removeAlpha()
      .raw()
      .toBuffer();
    assert.ok(meanAbsDiff(original, boxed) > 1, 'the boxes changed pixels');
    const none: Detections = { ...result, faces: [] };
    assert.ok(
      meanAbsDiff(
        original,
        await sharp(await annotate(image, none, 'png'))
          .removeAlpha()
          .raw()
          .toBuffer(),
      ) < 0.01,
    );
  });

  it('refuses a classifier for detection and a detector for classification; bad input as everywhere', async () => {
    await assert.rejects(
      detect(photo('face.jpg'), { model: 'imagenet' }),
      (e: BadRequestError) => e.code === 'wrong_task',
    );
    await assert.rejects(
      classify(photo('face.jpg'), { model: 'faces' }),
      (e: BadRequestError) => e.code === 'wrong_task',
    );
    await assert.rejects(detect(new TextEncoder().encode('not a photo')), UnsupportedImageError);
  });
});

describe('tflite-fn detect', () => {
  it('stdin to stdout: the annotated JPEG, as `tflite-fn detect < in.jpg > boxed.jpg`', () => {
    const run = spawnSync(process.execPath, [CLI, 'detect'], { input: photo('grace_hopper.jpg') });
    assert.equal(run.status, 0, String(run.stderr));
    assert.deepEqual([...run.stdout.subarray(0, 2)], [0xff, 0xd8]);
  });

  it('--json and --out', async () => {
    const json = spawnSync(process.execPath, [CLI, 'detect', join(IMAGES, 'face.jpg'), '--json'], {
      encoding: 'utf8',
    });
    assert.equal(json.status, 0, json.stderr);
    assert.ok((JSON.parse(json.stdout) as Detections).faces.length >= 2);
    const out = join(mkdtempSync(join(tmpdir(), 'detect-')), 'boxed.png');
    const file = spawnSync(
      process.execPath,
      [CLI, 'detect', join(IMAGES, 'grace_hopper.jpg'), '--out', out],
      { encoding: 'utf8' },
    );
    assert.equal(file.status, 0, file.stderr);
    assert.match(file.stderr, /1 face ->/);
    const meta = await sharp(readFileSync(out)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 517, 606]);
  });
});
