import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BadRequestError,
  type Classification,
  classify,
  ModelCatalog,
  ModelLoadError,
  TfliteFnError,
  TooLargeError,
  UnknownModelError,
  UnsupportedImageError,
} from '../src/index.js';
import { photo, pngWithClaimedSize, SHARED_MODELS } from './helpers.js';

/** Runs `action`, asserts it fails with `type`, `status` and `code`, and returns the error. */
async function rejectsWith(
  action: () => Promise<Classification>,
  type: new (...args: never[]) => TfliteFnError,
  status: number,
  code: string,
): Promise<TfliteFnError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${type.name}`);
}

/** After every failure the same process must still answer a good request. */
async function stillServes(catalog?: ModelCatalog): Promise<void> {
  const result = await classify(photo('grace_hopper.jpg'), { catalog });
  assert.equal(result.label, 'military uniform');
}

describe('bad input', () => {
  it('empty input: 400 empty_image', async () => {
    await rejectsWith(() => classify(new Uint8Array(0)), BadRequestError, 400, 'empty_image');
    await stillServes();
  });

  it('random bytes: 415 unsupported_image', async () => {
    await rejectsWith(() => classify(randomBytes(4096)), UnsupportedImageError, 415, 'unsupported_image');
    await stillServes();
  });

  it('a text file: 415 unsupported_image', async () => {
    const text = readFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'));
    const error = await rejectsWith(() => classify(text), UnsupportedImageError, 415, 'unsupported_image');
    assert.match(error.message, /not an image/);
    await stillServes();
  });

  it('SVG is refused (it can reference other files): 415', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    await rejectsWith(() => classify(svg), UnsupportedImageError, 415, 'unsupported_image');
  });

  it('a truncated JPEG: 400 corrupt_image', async () => {
    const jpeg = photo('grace_hopper.jpg');
    await rejectsWith(
      () => classify(jpeg.subarray(0, jpeg.length / 2)),
      BadRequestError,
      400,
      'corrupt_image',
    );
    await stillServes();
  });

  it('a 30000x30000 PNG header (pixel bomb): 413 image_too_large, before decoding', async () => {
    const bomb = pngWithClaimedSize(30000, 30000);
    assert.ok(bomb.length < 10_000, 'the file itself is small');
    const started = performance.now();
    const error = await rejectsWith(() => classify(bomb), TooLargeError, 413, 'image_too_large');
    assert.match(error.message, /30000x30000/);
    assert.ok(performance.now() - started < 2000, 'refused from the header, not after decoding 900 M pixels');
    await stillServes();
  });

  it('more bytes than the limit: 413 payload_too_large', async () => {
    const limits = { maxBytes: 1000, maxPixels: 1e8 };
    await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { limits }),
      TooLargeError,
      413,
      'payload_too_large',
    );
  });

  it('an unknown model: 404 unknown_model, listing the known ones', async () => {
    const error = await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { model: 'nope' }),
      UnknownModelError,
      404,
      'unknown_model',
    );
    assert.match(error.message, /imagenet/);
    await stillServes();
  });

  it('bad options: 400 bad_option', async () => {
    await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { top: 0 }),
      BadRequestError,
      400,
      'bad_option',
    );
    await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { top: 1.5 }),
      BadRequestError,
      400,
      'bad_option',
    );
    await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { resize: 'squash' as 'fill' }),
      BadRequestError,
      400,
      'bad_option',
    );
  });

  it('errors serialise without internals', () => {
    const internal = new TfliteFnError(500, 'internal_error', 'secret path /var/task', { expose: false });
    assert.deepEqual(internal.toJSON(), { error: { code: 'internal_error', message: 'internal error' } });
    const client = new BadRequestError('empty_image', 'no image');
    assert.deepEqual(client.toJSON(), { error: { code: 'empty_image', message: 'no image' } });
  });
});

describe('bad model files', () => {
  /** A folder with one descriptor 'broken' pointing at `modelBytes`, plus a good 'tiny' model. */
  function modelFolder(modelBytes: Buffer, descriptorExtra = ''): string {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-models-'));
    writeFileSync(join(dir, 'broken.tflite'), modelBytes);
    copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(dir, 'labels.txt'));
    copyFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'), join(dir, 'tiny.tflite'));
    const descriptor = (file: string, extra = '') =>
      `model: { file: ${file}${extra} }\ninput: { width: 128, height: 128 }\noutput: { labels: { file: labels.txt } }\n`;
    writeFileSync(join(dir, 'broken.yaml'), descriptor('broken.tflite', descriptorExtra));
    writeFileSync(join(dir, 'tiny.yaml'), descriptor('tiny.tflite'));
    return dir;
  }

  const tinyBytes = readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'));

  async function assertBrokenThenTinyWorks(dir: string, pattern: RegExp): Promise<void> {
    const catalog = new ModelCatalog({ dirs: [dir] });
    const error = await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { model: 'broken', catalog }),
      ModelLoadError,
      500,
      'model_load_failed',
    );
    assert.match(error.message, pattern);
    // Asking again fails the same way (no half-loaded model is cached)...
    await rejectsWith(
      () => classify(photo('grace_hopper.jpg'), { model: 'broken', catalog }),
      ModelLoadError,
      500,
      'model_load_failed',
    );
    // ...and the other models of the same process keep working.
    const tiny = await classify(photo('parrot.jpg'), { model: 'tiny', catalog });
    assert.equal(tiny.label, 'macaw'); // measured 0.745 with this small model
    await stillServes(catalog);
    await catalog.dispose();
  }

  it('invalid_model_invoking_error.tflite (a model that cannot run as a classifier): 500 model_load_failed', async () => {
    await assertBrokenThenTinyWorks(
      modelFolder(readFileSync(join(SHARED_MODELS, 'invalid_model_invoking_error.tflite'))),
      /shape \[1, 3\]/,
    );
  });

  it('a truncated model: 500 model_load_failed, found before LiteRT runs it', async () => {
    await assertBrokenThenTinyWorks(
      modelFolder(tinyBytes.subarray(0, Math.floor(tinyBytes.length * 0.7))),
      /truncated or corrupt/,
    );
  });

  it('a file that is not a model at all: 500 model_load_failed', async () => {
    await assertBrokenThenTinyWorks(
      modelFolder(Buffer.from('definitely not a flatbuffer')),
      /not a TensorFlow Lite model/,
    );
  });

  it('a model whose sha256 does not match its descriptor: 500, naming the fix', async () => {
    const wrongHash = `, sha256: ${'ab'.repeat(32)}`;
    await assertBrokenThenTinyWorks(modelFolder(tinyBytes, wrongHash), /is corrupt.*npx tflite-fn setup/);
  });

  it('a missing model file: 500, naming where it looked and the fix', async () => {
    const dir = modelFolder(tinyBytes);
    writeFileSync(
      join(dir, 'broken.yaml'),
      'model: { file: gone.tflite }\ninput: { width: 128, height: 128 }\noutput: { labels: { file: labels.txt } }\n',
    );
    await assertBrokenThenTinyWorks(dir, /is missing: .*gone\.tflite.*npx tflite-fn setup/);
  });
});
