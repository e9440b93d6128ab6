import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  countScans,
  flatPng,
  halfJpegClosed,
  headerOnlyJpeg,
  manyChunkPng,
  manyFrameGif,
  manyPageTiff,
  manyScanJpeg,
} from '../bench/hostile-inputs.js';
import { drawingErrorToTfliteFnError, openImage, sharpErrorToTfliteFnError } from '../src/image/decode.js';
import { jpegSegments } from '../src/image/jpeg-structure.js';
import { resizeToRgb } from '../src/image/to-tensor.js';
import { JPEG_SCAN_PIXEL_BUDGET } from '../src/image/work-limits.js';
import { classify, TfliteFnError } from '../src/index.js';
import { photo } from './helpers.js';

/** Opens and resizes as classify does; returns the error it fails with, or undefined. */
async function failure(bytes: Uint8Array): Promise<TfliteFnError | undefined> {
  try {
    await resizeToRgb(await openImage(bytes), 224, 224, 'cover');
    return undefined;
  } catch (error) {
    assert.ok(error instanceof TfliteFnError, `expected a TfliteFnError, got ${String(error)}`);
    return error;
  }
}

async function assertStatus(
  bytes: Uint8Array,
  status: number,
  code: string,
  what: string,
): Promise<TfliteFnError> {
  const error = await failure(bytes);
  assert.ok(error, `${what}: expected ${status} ${code}, but it decoded`);
  assert.deepEqual([error.status, error.code], [status, code], `${what}: ${error.message}`);
  return error;
}

describe('status by class: recognised but damaged is 400, unrecognised is 415', async () => {
  const source = photo('grace_hopper.jpg');
  const encoded: Record<string, Buffer> = {
    jpeg: source,
    png: await sharp(source).png().toBuffer(),
    webp: await sharp(source).webp().toBuffer(),
    gif: await sharp(source).gif().toBuffer(),
    tiff: await sharp(source).tiff().toBuffer(),
    'tiff (lzw)': await sharp(source).tiff({ compression: 'lzw' }).toBuffer(),
    avif: await sharp(source).avif({ effort: 0 }).toBuffer(),
  };

  for (const [format, bytes] of Object.entries(encoded)) {
    it(`half a ${format} file: 400 corrupt_image`, async () => {
      assert.equal(await failure(bytes), undefined, `the whole ${format} file decodes`);
      await assertStatus(bytes.subarray(0, Math.floor(bytes.length / 2)), 400, 'corrupt_image', format);
    });
  }

  it('a TIFF cut to its first 100 bytes: 400, not 415', async () => {
    await assertStatus((encoded.tiff as Buffer).subarray(0, 100), 400, 'corrupt_image', 'tiff header');
  });

  it('a JPEG header claiming 8000x8000 with no data, closed with an end marker: 400, from the markers', async () => {
    const header = await headerOnlyJpeg(8000);
    assert.ok(header.length < 400, `${header.length} bytes`);
    const error = await assertStatus(header, 400, 'corrupt_image', 'header only');
    assert.match(error.message, /8000x8000/);
    await assertStatus(await headerOnlyJpeg(8000, 10), 400, 'corrupt_image', 'header and 10 bytes');
  });

  it('half a JPEG closed with an end marker (only a decoder warning tells): 400', async () => {
    await assertStatus(halfJpegClosed(source), 400, 'corrupt_image', 'half JPEG + EOI');
  });

  it('a JPEG with stray bytes between its segments (only a harmless libjpeg warning) still classifies', async () => {
    const scan = jpegSegments(source).find((s) => s.marker === 0xda) as { start: number };
    const padded = Buffer.concat([
      source.subarray(0, scan.start),
      Buffer.from([0, 0x11, 0x22]),
      source.subarray(scan.start),
    ]);
    await assert.rejects(sharp(padded, { failOn: 'warning' }).raw().toBuffer(), /extraneous bytes/);
    assert.equal((await classify(padded)).label, 'military uniform');
  });

  it("sharp's failures map by class: timeout and pixel limit 413, a known format 400, unknown bytes 415", () => {
    const map = (message: string, format?: string) => {
      const error = sharpErrorToTfliteFnError(new Error(message), format);
      return [error.status, error.code];
    };
    assert.deepEqual(map('timeout: 32% complete', 'jpeg'), [413, 'image_too_large']);
    assert.deepEqual(map('Input image exceeds pixel limit', 'png'), [413, 'image_too_large']);
    assert.deepEqual(map('Input buffer contains unsupported image format', 'tiff'), [400, 'corrupt_image']);
    assert.deepEqual(map('Input buffer contains unsupported image format'), [415, 'unsupported_image']);
    const already = new TfliteFnError(413, 'image_too_large', 'too many scans');
    assert.equal(
      sharpErrorToTfliteFnError(already, 'jpeg'),
      already,
      'our own errors pass through unchanged',
    );
  });

  it('a timeout while drawing a picture says drawing, not decoding (413 image_too_large)', () => {
    const timeout = new Error('timeout: 32% complete');
    const drawing = drawingErrorToTfliteFnError(timeout);
    assert.deepEqual([drawing.status, drawing.code], [413, 'image_too_large']);
    assert.match(drawing.message, /took more than \d+ s to draw/);
    assert.doesNotMatch(drawing.message, /decode/);
    // Opening the photo for inference still says decoding.
    assert.match(sharpErrorToTfliteFnError(timeout, 'jpeg').message, /to decode/);
    // Any other failure while drawing maps as when decoding.
    const corrupt = drawingErrorToTfliteFnError(new Error('VipsJpeg: premature end of input file'));
    assert.deepEqual([corrupt.status, corrupt.code], [400, 'corrupt_image']);
  });

  it('bytes that are no format we know: 415 unsupported_image', async () => {
    await assertStatus(randomBytes(4096), 415, 'unsupported_image', 'random bytes');
    await assertStatus(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      415,
      'unsupported_image',
      'svg',
    );
  });
});

describe('work bounds: small inputs cannot buy seconds of CPU', () => {
  it('a progressive JPEG repeating its scans past the budget: 413, refused from the markers', async () => {
    const jpeg = await manyScanJpeg(2000, 100);
    const scans = countScans(jpeg);
    assert.ok(scans * 2000 * 2000 > JPEG_SCAN_PIXEL_BUDGET, `${scans} scans`);
    assert.ok(jpeg.length < 100_000, `${jpeg.length} bytes`);
    const started = process.cpuUsage();
    const error = await assertStatus(jpeg, 413, 'image_too_large', 'many scans');
    assert.match(error.message, /scans/);
    const cpu = process.cpuUsage(started);
    assert.ok(cpu.user + cpu.system < 1_000_000, 'refused without decoding (under 1 s of CPU)');
  });

  it('ordinary progressive JPEGs (libjpeg and mozjpeg scripts) still classify', async () => {
    for (const mozjpeg of [false, true]) {
      const jpeg = await sharp(photo('grace_hopper.jpg')).jpeg({ progressive: true, mozjpeg }).toBuffer();
      const result = await classify(jpeg);
      assert.equal(result.label, 'military uniform', `mozjpeg: ${mozjpeg}, ${countScans(jpeg)} scans`);
    }
  });

  it('a TIFF of 5000 pages and a GIF of 20000 frames: the first page/frame is read', async () => {
    for (const [what, bytes] of [
      ['tiff', manyPageTiff(5000)],
      ['gif', manyFrameGif(20000)],
    ] as const) {
      const opened = await openImage(bytes);
      assert.equal(opened.format, what);
      assert.equal((await resizeToRgb(opened, 8, 8, 'fill')).length, 8 * 8 * 3);
    }
  });

  it('a PNG with 50000 ancillary chunks decodes or is refused as corrupt, never hangs', async () => {
    const error = await failure(await manyChunkPng(50_000));
    if (error) assert.equal(error.status, 400, error.message);
  });
});

describe('extreme aspect ratios', async () => {
  const tall = await flatPng(1, 1_000_000);
  const wide = await flatPng(1_000_000, 1);

  for (const [name, bytes] of [
    ['1x1000000', tall],
    ['1000000x1', wide],
  ] as const) {
    for (const mode of ['cover', 'fill'] as const) {
      it(`a valid ${name} PNG resizes with ${mode} to the exact input size`, async () => {
        const rgb = await resizeToRgb(await openImage(bytes), 224, 224, mode);
        assert.equal(rgb.length, 224 * 224 * 3);
        // A flat grey image stays flat grey, whatever the scaling.
        assert.ok(
          rgb.every((v) => Math.abs(v - 128) <= 2),
          'grey',
        );
      });
    }
  }

  it('classify answers for a 1x1000000 PNG in both resize modes', async () => {
    for (const resize of ['cover', 'fill'] as const) {
      const result = await classify(tall, { resize });
      assert.equal(result.image.width, 1);
      assert.equal(result.image.height, 1_000_000);
    }
  });

  it('cover crops the centre: a wide image with a red centre square comes out all red', async () => {
    // 3000x100, red in the middle 100x100, blue elsewhere: the centre crop is the red square.
    const image = await sharp({ create: { width: 3000, height: 100, channels: 3, background: '#0000ff' } })
      .composite([
        {
          input: { create: { width: 100, height: 100, channels: 3, background: '#ff0000' } },
          left: 1450,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    const rgb = await resizeToRgb(await openImage(image), 32, 32, 'cover');
    for (let i = 0; i < rgb.length; i += 3) {
      assert.ok(
        (rgb[i] as number) > 240 && (rgb[i + 2] as number) < 15,
        `pixel ${i / 3}: ${rgb.subarray(i, i + 3)}`,
      );
    }
  });
});
