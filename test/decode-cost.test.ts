/**
 * The server's decode-cost estimate (src/image/decode-cost.ts), on real encoder output and on
 * the crafted hostile images: ordinary photos are light, images that buy a lot of decoding
 * are heavy, unreadable headers are heavy, and the estimate itself is cheap on hostile files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  flatAvif,
  flatPng,
  flatTiff,
  flatWebp,
  headerOnlyJpeg,
  manyChunkPng,
  manyFrameGif,
  manyPageTiff,
  manyScanJpeg,
  oneBitBmp,
  pngBomb,
} from '../bench/hostile-inputs.js';
import type { TfliteFnError } from '../src/errors.js';
import { openImage } from '../src/image/decode.js';
import { estimateDecodeCost, HEAVY_BODY_BYTES, HEAVY_DECODE_WORK } from '../src/image/decode-cost.js';
import { photo } from './helpers.js';

async function heavy(bytes: Uint8Array): Promise<boolean> {
  return (await estimateDecodeCost(bytes)).heavy;
}

describe('decode-cost estimate', () => {
  it('ordinary photos and small images of every format are light', async () => {
    assert.equal(await heavy(photo('grace_hopper.jpg')), false);
    const photo12mp = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#468' } })
      .jpeg({ quality: 90 })
      .toBuffer();
    const cost = await estimateDecodeCost(photo12mp);
    assert.equal(cost.format, 'jpeg');
    assert.equal(cost.work, 12, 'a 12 MP baseline JPEG is the unit');
    assert.equal(cost.heavy, false);
    for (const small of [
      await flatPng(1000, 1000),
      await flatWebp(1000, 1000),
      await flatTiff(1000, 1000),
      await flatAvif(512, 512),
      manyFrameGif(1, 1000),
      oneBitBmp(2000, 2000),
    ]) {
      const light = await estimateDecodeCost(small);
      assert.equal(light.heavy, false, `${light.format}: work ${light.work}`);
      assert.ok(light.work > 0, `${light.format}: its size was read (work ${light.work})`);
    }
  });

  it('images that buy a lot of decoding are heavy, whatever their format', async () => {
    const hostile: [string, Uint8Array][] = [
      ['progressive JPEG, 1024x1024, 970 scans', await manyScanJpeg(1024, 120)],
      ['JPEG header 8000x8000', await headerOnlyJpeg(8000)],
      ['1-bit BMP 8192x8192', oneBitBmp(8192, 8192)],
      ['PNG bomb 6000x6000', await pngBomb(6000, 6000)],
      ['WebP 4000x4000', await flatWebp(4000, 4000)],
      ['TIFF 6000x6000', await flatTiff(6000, 6000)],
      ['AVIF 3000x3000', await flatAvif(3000, 3000)],
      ['GIF 8000x8000 screen', manyFrameGif(1, 8000)],
    ];
    for (const [name, bytes] of hostile) {
      const cost = await estimateDecodeCost(bytes);
      assert.ok(cost.heavy, `${name}: work ${cost.work} <= ${HEAVY_DECODE_WORK}`);
    }
  });

  it('a body over HEAVY_BODY_BYTES or a header sharp must place is heavy; no image at all is light', async () => {
    const padded = Buffer.alloc(HEAVY_BODY_BYTES + 1);
    padded.set(photo('grace_hopper.jpg'));
    const big = await estimateDecodeCost(padded);
    assert.ok(
      big.work < 1 && big.heavy,
      `a small photo padded past HEAVY_BODY_BYTES is heavy to move: ${big.work}`,
    );
    assert.equal(await heavy(Buffer.from('RIFF\0\0\0\0WEBPXXXX')), true, 'a WebP with no chunk');
  });

  it('a JPEG or BMP whose header the decoder refuses before decoding is light (refused at once)', async () => {
    // A truncated upload is a common mistake, not an attack: sent to the heavy lane it would
    // wait behind costly decodes for an answer that costs nothing (the decoder's own header
    // check, the same reader, refuses it first).
    const cutPhoto = photo('grace_hopper.jpg').subarray(0, 30000);
    const cutJpeg = (await headerOnlyJpeg(500)).subarray(0, 40);
    for (const [name, bytes] of [
      ['a photo cut short', cutPhoto],
      ['a JPEG cut inside its markers', cutJpeg],
      ['a BMP with no header', Buffer.from('BM')],
    ] as const) {
      assert.equal(await heavy(bytes), false, name);
      await assert.rejects(openImage(bytes), (error: TfliteFnError) => error.status === 400, name);
    }
    const notAnImage = await estimateDecodeCost(Buffer.from('hello, world'));
    assert.deepEqual(notAnImage, { format: undefined, work: 0, heavy: false });
  });

  it('costs little on hostile files (no decode): a 1 MB file is estimated in milliseconds', async () => {
    const files = [
      await manyScanJpeg(1024, 3000), // ~24,000 scans in ~1 MB
      await manyChunkPng(60_000),
      manyPageTiff(10_000),
      manyFrameGif(44_000),
      oneBitBmp(2880, 2880),
    ];
    for (const file of files) {
      const begun = performance.now();
      await estimateDecodeCost(file);
      const ms = performance.now() - begun;
      // A decode of any of these takes hundreds of ms to seconds; the bound is 10x looser
      // than what the estimate takes on a slow, busy machine.
      assert.ok(ms < 250, `${file.length} bytes estimated in ${ms.toFixed(1)} ms`);
    }
  });
});
