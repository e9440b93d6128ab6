import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { oneBitBmp, oneBitBmpPixel } from '../bench/hostile-inputs.js';
import { BadRequestError, TooLargeError, UnsupportedImageError } from '../src/errors.js';
import { decodeBmp } from '../src/image/bmp.js';
import { classify } from '../src/index.js';
import { encodeBmp, photo } from './helpers.js';

describe('BMP decoder', async () => {
  // An odd width exercises row padding (rows are padded to 4 bytes).
  const { data, info } = await sharp(photo('parrot.jpg'))
    .resize(33, 17, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data);

  for (const layout of [
    { bitsPerPixel: 24, topDown: false },
    { bitsPerPixel: 24, topDown: true },
    { bitsPerPixel: 32, topDown: false },
  ] as const) {
    it(`decodes ${layout.bitsPerPixel}-bit ${layout.topDown ? 'top-down' : 'bottom-up'} rows exactly`, async () => {
      const bmp = encodeBmp(rgb, info.width, info.height, layout);
      const decoded = await decodeBmp(bmp, 1e6);
      assert.deepEqual([decoded.width, decoded.height, decoded.channels], [33, 17, 3]);
      assert.deepEqual(decoded.data, rgb);
    });
  }

  it('decodes 8-bit grey palette images to one grey channel', async () => {
    const bmp = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 8 });
    const decoded = await decodeBmp(bmp, 1e6);
    assert.equal(decoded.channels, 1);
    assert.deepEqual(
      decoded.data,
      rgb.filter((_, i) => i % 3 === 0),
    );
  });

  it('decodes 8-bit colour palette images to RGB', async () => {
    const bmp = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 8 });
    bmp.writeUInt8(200, 54 + 7 * 4); // palette entry 7 is no longer grey: blue 200
    const decoded = await decodeBmp(bmp, 1e6);
    assert.equal(decoded.channels, 3);
    for (let i = 0; i < rgb.length; i += 3) {
      const red = rgb[i] as number;
      const expected = red === 7 ? [7, 7, 200] : [red, red, red];
      assert.deepEqual([decoded.data[i], decoded.data[i + 1], decoded.data[i + 2]], expected);
    }
  });

  it('decodes 1-bit images exactly, odd widths included', async () => {
    for (const [width, height] of [
      [33, 17],
      [64, 9],
      [1, 1],
    ] as const) {
      const decoded = await decodeBmp(oneBitBmp(width, height), 1e6);
      assert.deepEqual([decoded.width, decoded.height, decoded.channels], [width, height, 1]);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          assert.equal(decoded.data[y * width + x], oneBitBmpPixel(x, y), `${width}x${height} at ${x},${y}`);
        }
      }
    }
  });

  it('refuses a truncated file instead of reading past its end', async () => {
    const bmp = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 24 });
    await assert.rejects(decodeBmp(bmp.subarray(0, bmp.length - 10), 1e6), BadRequestError);
    await assert.rejects(decodeBmp(bmp.subarray(0, 20), 1e6), BadRequestError);
  });

  it('checks the pixel limit before allocating', async () => {
    const bomb = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 24 });
    bomb.writeInt32LE(30000, 18);
    bomb.writeInt32LE(30000, 22);
    await assert.rejects(decodeBmp(bomb, 64_000_000), TooLargeError);
  });

  it('says RLE-compressed files are not supported', async () => {
    const rle = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 8 });
    rle.writeUInt32LE(1, 30); // BI_RLE8
    await assert.rejects(decodeBmp(rle, 1e6), UnsupportedImageError);
  });

  it('an 8 MB 1-bit BMP of 64 MP: one byte a pixel, and the event loop keeps turning', async () => {
    const bmp = oneBitBmp(8000, 8000);
    assert.ok(bmp.length <= 8_100_000);
    let last = performance.now();
    let longestStall = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestStall = Math.max(longestStall, now - last);
      last = now;
    }, 5);
    try {
      const decoded = await decodeBmp(bmp, 64_000_000);
      assert.equal(decoded.data.length, 64_000_000, 'grey, not 192 MB of RGB');
      assert.equal(decoded.data[8000 * 8 + 8], oneBitBmpPixel(8, 8));
    } finally {
      clearInterval(ticker);
    }
    // Before: one synchronous 8 s loop. A wide margin for a loaded machine.
    assert.ok(longestStall < 1000, `the event loop stalled for ${Math.round(longestStall)} ms`);
  });

  it('classify reads a 1-bit BMP through openImage (grey becomes sRGB)', async () => {
    const result = await classify(oneBitBmp(300, 200));
    assert.deepEqual([result.image.format, result.image.width, result.image.height], ['bmp', 300, 200]);
  });
});
