import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { BadRequestError, TooLargeError, UnsupportedImageError } from '../src/errors.js';
import { decodeBmp } from '../src/image/bmp.js';
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
    it(`decodes ${layout.bitsPerPixel}-bit ${layout.topDown ? 'top-down' : 'bottom-up'} rows exactly`, () => {
      const bmp = encodeBmp(rgb, info.width, info.height, layout);
      const decoded = decodeBmp(bmp, 1e6);
      assert.deepEqual([decoded.width, decoded.height], [33, 17]);
      assert.deepEqual(decoded.data, rgb);
    });
  }

  it('decodes 8-bit palette images', () => {
    const bmp = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 8 });
    const decoded = decodeBmp(bmp, 1e6);
    for (let i = 0; i < rgb.length; i += 3) {
      const red = rgb[i];
      assert.deepEqual([decoded.data[i], decoded.data[i + 1], decoded.data[i + 2]], [red, red, red]);
    }
  });

  it('refuses a truncated file instead of reading past its end', () => {
    const bmp = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 24 });
    assert.throws(() => decodeBmp(bmp.subarray(0, bmp.length - 10), 1e6), BadRequestError);
    assert.throws(() => decodeBmp(bmp.subarray(0, 20), 1e6), BadRequestError);
  });

  it('checks the pixel limit before allocating', () => {
    const bomb = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 24 });
    bomb.writeInt32LE(30000, 18);
    bomb.writeInt32LE(30000, 22);
    assert.throws(() => decodeBmp(bomb, 64_000_000), TooLargeError);
  });

  it('says RLE-compressed files are not supported', () => {
    const rle = encodeBmp(rgb, info.width, info.height, { bitsPerPixel: 8 });
    rle.writeUInt32LE(1, 30); // BI_RLE8
    assert.throws(() => decodeBmp(rle, 1e6), UnsupportedImageError);
  });
});
