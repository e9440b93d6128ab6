/**
 * What decoding an image will cost, estimated from its header alone (never a decode), so the
 * server can keep costly decodes from holding up cheap ones (the pool's lanes, see
 * handlers/server/pool.ts). A photo's decode dominates a request's worker time; its cost is
 * about pixels x passes over them (a progressive JPEG walks every block once per scan), times
 * what one pixel costs in that format's decoder.
 *
 * Reading the header is bounded: fixed offsets for PNG, GIF, WebP and BMP; a JPEG's markers
 * (a memchr-speed walk over the file, which the worker repeats anyway); sharp's metadata for
 * TIFF and HEIF (header parsing on the thread pool, not the event loop). Whatever cannot be
 * read counts as heavy (an attacker gains nothing by sending a header we cannot place), except
 * a JPEG or BMP header the decoder's own check refuses before decoding: that costs nothing.
 */
import sharp from 'sharp';
import { TfliteFnError } from '../errors.js';
import { readBmpSize } from './bmp.js';
import { readJpegStructure } from './jpeg-structure.js';
import { type SniffedFormat, sniffFormat } from './sniff.js';

export interface DecodeCost {
  readonly format: SniffedFormat | undefined;
  /** Decode work in megapixels of a baseline JPEG that would cost as much (Infinity: unknown). */
  readonly work: number;
  readonly heavy: boolean;
}

/**
 * CPU per pixel of each decoder, relative to a baseline JPEG (which libvips decodes with
 * libjpeg's shrink-on-load, so its IDCT runs at 1/8 scale; other formats are decoded and then
 * resized at full size). Measured with openImage() + the 224x224 resize classify() runs, on an
 * Intel Xeon (2 cores, busy): noisy baseline JPEG 12 MP 126 ms, 48 MP 470 ms (~10 ms/MP);
 * 12 MP progressive (10 scans) 354 ms; 1024x1024 of 970 flat scans 283 ms; noisy lossy WebP
 * 12 MP 548 ms (~4x); flat PNG 16 MP 185 ms, AVIF 4 MP 92 ms (~2x, more when noisy); 1-bit BMP
 * 8 MP 42 ms. Rounded up: the estimate should err towards heavy.
 */
const PIXEL_WEIGHT: Record<SniffedFormat, number> = {
  jpeg: 1,
  png: 2,
  gif: 2,
  tiff: 2,
  bmp: 1,
  webp: 4,
  heif: 8,
};
/**
 * Each progressive scan after the first re-reads every block's coefficients (the IDCT is not
 * redone): a third of a baseline pass fits a real 10-scan photo (354 ms vs 126 ms above).
 * Crafted scans of flat grey cost less, but scans full of coefficients would not.
 */
const JPEG_SCAN_WEIGHT = 1 / 3;

/**
 * Heavy: more than four times the work of a 12 MP baseline JPEG (a phone photo: ~0.13 s of a
 * worker above, so heavy is ~0.5 s and more). A 48 MP baseline photo and a 12 MP progressive
 * one are the largest light ones; the hostile JPEG of issue #12 (1024x1024, 970 scans: 340)
 * and a 64 MP BMP (64) are heavy, an ordinary photo (grace_hopper.jpg: 0.3) far from it.
 */
export const HEAVY_DECODE_WORK = 48;

/**
 * Heavy too, whatever its pixels: a body over 8 MiB. Handing it to a worker costs more than its
 * decode may: the structured-clone copy holds the server's event loop ~0.7 ms per MB and the
 * worker's channel ~2 ms per MB (32 MB: 22 ms and 60 ms, measured on the Xeon above), and
 * every job queued behind it on that worker's channel waits that long. A 12 MP phone JPEG is
 * 3-6 MB; a 32 MB upload of a small photo padded with zeros is cheap to decode but not to move.
 */
export const HEAVY_BODY_BYTES = 8 * 1024 * 1024;

const MEGA = 1_000_000;

function jpegWork(bytes: Uint8Array): number {
  const jpeg = readJpegStructure(bytes);
  const passes = 1 + Math.max(0, jpeg.scans - 1) * JPEG_SCAN_WEIGHT;
  return (jpeg.width * jpeg.height * passes) / MEGA;
}

function u16be(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

function u16le(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
}

function u24le(bytes: Uint8Array, at: number): number {
  return u16le(bytes, at) | ((bytes[at + 2] as number) << 16);
}

/** Width and height from the fixed-place headers; undefined when they are not there. */
function headerSize(bytes: Uint8Array, format: SniffedFormat): { width: number; height: number } | undefined {
  if (format === 'png') {
    if (bytes.length < 24) return undefined; // IHDR: width, height at 16 and 20 (big-endian)
    return {
      width: u16be(bytes, 16) * 65536 + u16be(bytes, 18),
      height: u16be(bytes, 20) * 65536 + u16be(bytes, 22),
    };
  }
  if (format === 'gif') {
    if (bytes.length < 10) return undefined; // the logical screen, which the first frame fills
    return { width: u16le(bytes, 6), height: u16le(bytes, 8) };
  }
  if (format === 'bmp') {
    const size = readBmpSize(bytes);
    return { width: Math.abs(size.width), height: Math.abs(size.height) };
  }
  if (format === 'webp' && bytes.length >= 30) {
    const chunk = String.fromCharCode(...bytes.subarray(12, 16));
    if (chunk === 'VP8X') return { width: 1 + u24le(bytes, 24), height: 1 + u24le(bytes, 27) };
    if (chunk === 'VP8 ') return { width: u16le(bytes, 26) & 0x3fff, height: u16le(bytes, 28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = u16le(bytes, 21) | (u16le(bytes, 23) << 16);
      return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
    }
  }
  return undefined;
}

async function megapixels(bytes: Uint8Array, format: SniffedFormat): Promise<number> {
  if (format === 'jpeg') return jpegWork(bytes);
  if (format === 'tiff' || format === 'heif') {
    // The first page only: the worker decodes with `animated: false`.
    const { width, height } = await sharp(bytes, { limitInputPixels: false, animated: false }).metadata();
    return width && height ? (width * height) / MEGA : Number.POSITIVE_INFINITY;
  }
  const size = headerSize(bytes, format);
  return size ? (size.width * size.height) / MEGA : Number.POSITIVE_INFINITY;
}

/** The decode cost of `bytes`, from the header; unreadable or unknown is heavy, so is a big body. */
export async function estimateDecodeCost(bytes: Uint8Array): Promise<DecodeCost> {
  const format = sniffFormat(bytes);
  // Not an image we read: the worker refuses it at once, so it costs nothing.
  const big = bytes.length > HEAVY_BODY_BYTES;
  if (format === undefined) return { format, work: 0, heavy: big };
  let work: number;
  try {
    work = (await megapixels(bytes, format)) * PIXEL_WEIGHT[format];
  } catch (error) {
    // JPEG and BMP headers are read by the decoder's own check (the same readers), which
    // refuses such a file before any decoding: it costs nothing (a truncated upload, most
    // often). Any other header we cannot place: assume the worst.
    const refusedBeforeDecoding =
      (format === 'jpeg' || format === 'bmp') && error instanceof TfliteFnError && error.status < 500;
    work = refusedBeforeDecoding ? 0 : Number.POSITIVE_INFINITY;
  }
  return { format, work, heavy: !(work <= HEAVY_DECODE_WORK) || big };
}
