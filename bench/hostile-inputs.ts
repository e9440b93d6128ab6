/**
 * Hostile images, crafted at run time (nothing binary is committed): small files that ask a
 * decoder for a lot of work, or that lie about their size. Used by the tests and by
 * bench/input-cost.ts.
 */
import { once } from 'node:events';
import { crc32, createDeflate } from 'node:zlib';
import sharp from 'sharp';
import { jpegSegments } from '../src/image/jpeg-structure.js';
import { FlatFile } from '../src/tflite/flatbuffer.js';
import { readTfliteModel } from '../src/tflite/read.js';
import { BuiltinOperator, MODEL_FIELD, SUBGRAPH_FIELD, TENSOR_FIELD } from '../src/tflite/schema.js';

const SOS = 0xda;
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * A progressive JPEG of a flat grey `side` x `side` image whose refinement scans (with their
 * Huffman tables) are repeated `repeats` times. Each repeat adds a few dozen bytes and one full
 * pass over every block for the decoder; libjpeg only warns about the odd progression.
 */
export async function manyScanJpeg(side: number, repeats: number): Promise<Buffer> {
  const base = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080' } })
    .jpeg({ progressive: true, quality: 90 })
    .toBuffer();
  const segments = jpegSegments(base);
  const scans = segments.filter((s) => s.marker === SOS);
  const eoi = (segments.at(-1) as { start: number }).start;
  // Every segment after the first scan except the big (DC) scans: tables and small AC scans.
  const firstScan = scans[0] as { end: number };
  const tail = segments.filter((s) => s.start >= firstScan.end && s.start < eoi && s.end - s.start < 1024);
  const repeated = Buffer.concat(tail.map((s) => base.subarray(s.start, s.end)));
  return Buffer.concat([base.subarray(0, eoi), ...Array.from({ length: repeats }, () => repeated), EOI]);
}

/** Number of scans in a JPEG. */
export function countScans(jpeg: Uint8Array): number {
  return jpegSegments(jpeg).filter((s) => s.marker === SOS).length;
}

/**
 * A JPEG whose header says `side` x `side` followed by `dataBytes` bytes of scan data and an
 * end marker: a few hundred bytes a decoder would happily "complete" with grey.
 */
export async function headerOnlyJpeg(side: number, dataBytes = 0): Promise<Buffer> {
  const full = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  const scan = jpegSegments(full).find((s) => s.marker === SOS) as { start: number };
  const headerEnd = scan.start + 2 + full.readUInt16BE(scan.start + 2);
  return Buffer.concat([full.subarray(0, headerEnd + dataBytes), EOI]);
}

/** The first half of a file, closed with a JPEG end marker so that only a decoder warning tells. */
export function halfJpegClosed(jpeg: Buffer): Buffer {
  return Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length / 2)), EOI]);
}

/**
 * A 1-bit BMP (black/white palette) of `width` x `height`, a checkerboard of 8-pixel squares
 * so that the decoded pixels can be checked.
 */
export function oneBitBmp(width: number, height: number): Buffer {
  const stride = Math.ceil(width / 32) * 4;
  const offset = 14 + 40 + 8;
  const file = Buffer.alloc(offset + stride * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(offset, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(-height, 22); // top-down
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(1, 28);
  file.writeUInt32LE(2, 46); // colours used
  file.set([0, 0, 0, 0, 255, 255, 255, 0], 54);
  // Bytes alternate 0x00 / 0xff: 8 black pixels, 8 white; rows swap every 8 rows.
  for (let y = 0; y < height; y++) {
    const row = offset + y * stride;
    for (let b = 0; b < stride; b++) file[row + b] = (b + (y >> 3)) % 2 === 0 ? 0x00 : 0xff;
  }
  return file;
}

/** The checkerboard pixel oneBitBmp() writes at (x, y): 0 or 255. */
export function oneBitBmpPixel(x: number, y: number): number {
  return ((x >> 3) + (y >> 3)) % 2 === 0 ? 0 : 255;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** `size` zero bytes deflated as one zlib stream, fed a band at a time. */
async function deflatedZeros(size: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = once(deflate, 'end');
  const band = Buffer.alloc(16 << 20);
  for (let done = 0; done < size; done += band.length) {
    if (!deflate.write(band.subarray(0, Math.min(band.length, size - done)))) await once(deflate, 'drain');
  }
  deflate.end();
  await ended;
  return Buffer.concat(chunks);
}

/** Bytes of filtered image data of a PNG: one filter byte per row, per Adam7 pass if interlaced. */
function pngDataSize(width: number, height: number, bytesPerPixel: number, interlaced: boolean): number {
  const passes = interlaced
    ? [
        [0, 0, 8, 8],
        [4, 0, 8, 8],
        [0, 4, 4, 8],
        [2, 0, 4, 4],
        [0, 2, 2, 4],
        [1, 0, 2, 2],
        [0, 1, 1, 2],
      ]
    : [[0, 0, 1, 1]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    const columns = Math.ceil((width - x0) / dx);
    const rows = Math.ceil((height - y0) / dy);
    if (columns > 0 && rows > 0) total += rows * (1 + columns * bytesPerPixel);
  }
  return total;
}

/**
 * A zlib bomb: a valid `width` x `height` RGBA 16-bit PNG of zeros (8 bytes a pixel). Deflate
 * packs ~1000:1, so 64 MP (512 MB of pixels) fits in about half a megabyte. Interlaced (Adam7)
 * files cannot be decoded row by row, so a decoder must hold the whole image.
 */
export async function pngBomb(width: number, height: number, interlaced = false): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(16, 8); // bit depth
  header.writeUInt8(6, 9); // colour type: RGBA
  header.writeUInt8(interlaced ? 1 : 0, 12);
  const size = pngDataSize(width, height, 8, interlaced);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', await deflatedZeros(size)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG of `width` x `height` grey pixels (an extreme aspect ratio, say). */
export function flatPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
}

/**
 * A little-endian TIFF with `pages` pages of one grey pixel each: a file that is nearly all
 * directories (IFDs), which a reader walks to count pages.
 */
export function manyPageTiff(pages: number): Buffer {
  const entries: [tag: number, type: number, value: number][] = [
    [256, 3, 1], // ImageWidth
    [257, 3, 1], // ImageLength
    [258, 3, 8], // BitsPerSample
    [259, 3, 1], // Compression: none
    [262, 3, 1], // PhotometricInterpretation: BlackIsZero
    [273, 4, 8], // StripOffsets: the one shared pixel at byte 8
    [278, 3, 1], // RowsPerStrip
    [279, 4, 1], // StripByteCounts
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const first = 10; // header (8) + the pixel, padded to an even offset
  const file = Buffer.alloc(first + pages * ifdSize);
  file.write('II', 0, 'ascii');
  file.writeUInt16LE(42, 2);
  file.writeUInt32LE(first, 4);
  file[8] = 0x80;
  for (let page = 0; page < pages; page++) {
    const at = first + page * ifdSize;
    file.writeUInt16LE(entries.length, at);
    entries.forEach(([tag, type, value], i) => {
      const entry = at + 2 + i * 12;
      file.writeUInt16LE(tag, entry);
      file.writeUInt16LE(type, entry + 2);
      file.writeUInt32LE(1, entry + 4);
      if (type === 3) file.writeUInt16LE(value, entry + 8);
      else file.writeUInt32LE(value, entry + 8);
    });
    file.writeUInt32LE(page + 1 < pages ? at + ifdSize : 0, at + 2 + entries.length * 12);
  }
  return file;
}

/** A GIF with `frames` frames of one pixel each on a `side` x `side` screen. */
export function manyFrameGif(frames: number, side = 64): Buffer {
  const head = Buffer.alloc(13 + 6);
  head.write('GIF89a', 0, 'ascii');
  head.writeUInt16LE(side, 6);
  head.writeUInt16LE(side, 8);
  head[10] = 0x80; // a global colour table of 2 entries
  head.set([0, 0, 0, 255, 255, 255], 13);
  // Graphic control (no delay), a 1x1 image descriptor, then LZW data with minimum code size
  // 2: clear (4), index 0, end (5) packed LSB first into 0x44 0x01.
  const frame = Buffer.from([
    0x21, 0xf9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00, 0x02, 0x02, 0x44,
    0x01, 0x00,
  ]);
  return Buffer.concat([head, ...Array.from({ length: frames }, () => frame), Buffer.from([0x3b])]);
}

/** A valid 1x1 PNG with `count` small ancillary (tEXt) chunks before its pixels. */
export async function manyChunkPng(count: number): Promise<Buffer> {
  const plain = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  const ihdrEnd = 8 + 25;
  const text = pngChunk('tEXt', Buffer.from('k\0v', 'latin1'));
  return Buffer.concat([
    plain.subarray(0, ihdrEnd),
    ...Array.from({ length: count }, () => text),
    plain.subarray(ihdrEnd),
  ]);
}

/**
 * A copy of a .tflite model whose first DEQUANTIZE output claims `dimension` in its first
 * axis: a converter that trusts shapes would allocate dimension x the rest. The shape vector
 * is patched in place, so the file stays the same size.
 */
export function tfliteWithHugeDequantizeOutput(model: Uint8Array, dimension: number): Buffer {
  const parsed = readTfliteModel(model, 'model');
  const codes = parsed.operatorCodes.map((code) => code.builtinCode);
  const graph = parsed.subgraphs[0];
  const op = graph?.operators.find((o) => codes[o.opcodeIndex] === BuiltinOperator.DEQUANTIZE);
  const tensor = op?.outputs[0];
  if (tensor === undefined) throw new Error('the model has no DEQUANTIZE operator');
  // Patched by position: find where the tensor's shape vector starts in the file.
  const file = new FlatFile(model);
  const [subgraph] = file.tables(file.root(), MODEL_FIELD.subgraphs);
  const tensorTable =
    subgraph === undefined ? undefined : file.tables(subgraph, SUBGRAPH_FIELD.tensors)[tensor];
  const shape =
    tensorTable === undefined ? undefined : file.vector(tensorTable, TENSOR_FIELD.shape, 4)?.start;
  if (shape === undefined) throw new Error(`tensor ${tensor} has no shape`);
  const copy = Buffer.from(model);
  copy.writeInt32LE(dimension, shape);
  return copy;
}

/** A lossless WebP of `width` x `height` flat grey: a few hundred bytes for many pixels. */
export function flatWebp(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .webp({ lossless: true, effort: 0 })
    .toBuffer();
}

/** A deflate-compressed TIFF of `width` x `height` flat grey. */
export function flatTiff(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .tiff({ compression: 'deflate' })
    .toBuffer();
}

/** An AVIF of `width` x `height` flat grey, encoded as fast as libaom goes. */
export function flatAvif(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .avif({ effort: 0, quality: 30 })
    .toBuffer();
}
