/**
 * Shared test fixtures. Photos come from ../shared (read-only, never copied into git); images
 * in other formats are generated from them with sharp at test time.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { deflateSync } from 'node:zlib';
import { packageRoot, sharedDataDir } from '../src/store/paths.js';

export const SHARED = sharedDataDir();
export const IMAGES = resolve(SHARED, 'images');
export const SHARED_MODELS = resolve(SHARED, 'models');
export const CLI = resolve(packageRoot(), 'dist', 'handlers', 'cli', 'main.js');

const cache = new Map<string, Buffer>();

/** A photo from ../shared/images, read once. */
export function photo(name: string): Buffer {
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = readFileSync(resolve(IMAGES, name));
    cache.set(name, bytes);
  }
  return bytes;
}

/** The exact line WasmEdge's classify example prints for grace_hopper.jpg. */
export const CLASSIC_GRACE_HOPPER =
  "It is very likely a <a href='https://www.google.com/search?q=military uniform'>military uniform</a> in the picture";

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A small, valid PNG file whose header claims width x height pixels: a "pixel bomb". It holds
 * one compressed row only; a decoder that trusts the header would allocate gigabytes.
 */
export function pngWithClaimedSize(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface BmpOptions {
  readonly bitsPerPixel: 8 | 24 | 32;
  readonly topDown?: boolean;
}

/**
 * Writes RGB pixels as a BMP file (BITMAPINFOHEADER), to test our decoder on layouts the
 * shared photos do not cover: top-down rows, 32-bit, 8-bit palettes, row padding.
 */
export function encodeBmp(rgb: Uint8Array, width: number, height: number, options: BmpOptions): Buffer {
  const { bitsPerPixel } = options;
  const stride = Math.ceil((bitsPerPixel * width) / 32) * 4;
  // 8-bit: a 256-entry grey palette; pixels are stored as the red channel's value.
  const paletteSize = bitsPerPixel === 8 ? 256 * 4 : 0;
  const offset = 14 + 40 + paletteSize;
  const file = Buffer.alloc(offset + stride * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(offset, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(options.topDown ? -height : height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(bitsPerPixel, 28);
  for (let i = 0; i < (bitsPerPixel === 8 ? 256 : 0); i++) {
    file.writeUInt8(i, 54 + i * 4);
    file.writeUInt8(i, 54 + i * 4 + 1);
    file.writeUInt8(i, 54 + i * 4 + 2);
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (options.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const [r, g, b] = [rgb[i] as number, rgb[i + 1] as number, rgb[i + 2] as number];
      if (bitsPerPixel === 8) file.writeUInt8(r, row + x);
      else if (bitsPerPixel === 24) file.set([b, g, r], row + x * 3);
      else file.set([b, g, r, 255], row + x * 4);
    }
  }
  return file;
}

/** Mean absolute difference of two equally sized byte arrays. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}
