/**
 * A small Windows BMP decoder, because sharp (libvips) cannot read BMP.
 *
 * Covers what cameras, scanners and paint programs write: the OS/2 core header and the
 * Windows info headers (v1 to v5), 1/4/8-bit palettes, 16/24/32-bit pixels, BI_RGB and
 * BI_BITFIELDS, bottom-up and top-down rows. RLE compression and embedded JPEG/PNG are refused
 * with a clear message. The file's length is checked against the rows its header promises
 * before anything is allocated: a truncated file is an error, never a read past the end.
 */
import { BadRequestError, TooLargeError, UnsupportedImageError } from '../errors.js';

export interface DecodedBmp {
  /** Interleaved 8-bit grey or RGB, rows top to bottom. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** Reads width and height without decoding, so callers can refuse pixel bombs cheaply. */
export function readBmpSize(bytes: Uint8Array): { width: number; height: number } {
  const header = readHeader(bytes);
  return { width: header.width, height: header.height };
}

interface BmpHeader {
  pixelOffset: number;
  headerSize: number;
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  colorsUsed: number;
  view: DataView;
}

function truncated(): BadRequestError {
  return new BadRequestError('corrupt_image', 'the BMP image is truncated or corrupt');
}

function readHeader(bytes: Uint8Array): BmpHeader {
  if (bytes.length < 26) throw truncated();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit sizes, always bottom-up, 3-byte palette entries.
    return {
      pixelOffset,
      headerSize,
      width: view.getUint16(18, true),
      height: view.getUint16(20, true),
      topDown: false,
      bitsPerPixel: view.getUint16(24, true),
      compression: BI_RGB,
      colorsUsed: 0,
      view,
    };
  }
  if (headerSize < 40 || bytes.length < 14 + 40) throw truncated();
  const rawHeight = view.getInt32(22, true);
  return {
    pixelOffset,
    headerSize,
    width: view.getInt32(18, true),
    height: Math.abs(rawHeight),
    topDown: rawHeight < 0,
    bitsPerPixel: view.getUint16(28, true),
    compression: view.getUint32(30, true),
    colorsUsed: view.getUint32(46, true),
    view,
  };
}

/** A channel mask such as 0x00ff0000 as a shift and a scale to 0-255. */
interface Channel {
  shift: number;
  max: number;
}

function channelOf(mask: number): Channel {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

function readMasks(header: BmpHeader): [Channel, Channel, Channel] {
  const { view, compression, bitsPerPixel } = header;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    // v1 headers keep the masks right after the 40-byte header and v2+ inside it: the same offset.
    const at = 14 + 40;
    if (view.byteLength < at + 12) throw truncated();
    return [
      channelOf(view.getUint32(at, true)),
      channelOf(view.getUint32(at + 4, true)),
      channelOf(view.getUint32(at + 8, true)),
    ];
  }
  if (bitsPerPixel === 16) return [channelOf(0x7c00), channelOf(0x03e0), channelOf(0x001f)];
  return [channelOf(0xff0000), channelOf(0xff00), channelOf(0xff)];
}

/** Palette entries as BGR-free RGB triples; short palettes exist in the wild, missing entries read as black. */
function readPalette(header: BmpHeader): Uint8Array {
  const { view, headerSize, bitsPerPixel, colorsUsed } = header;
  const entrySize = headerSize === 12 ? 3 : 4;
  const count = colorsUsed > 0 && colorsUsed <= 1 << bitsPerPixel ? colorsUsed : 1 << bitsPerPixel;
  let start = 14 + headerSize;
  if (header.compression === BI_BITFIELDS && headerSize === 40) start += 12;
  const palette = new Uint8Array(3 << bitsPerPixel);
  for (let i = 0; i < count; i++) {
    const at = start + i * entrySize;
    if (at + 3 > view.byteLength) break;
    palette.set([view.getUint8(at + 2), view.getUint8(at + 1), view.getUint8(at)], i * 3);
  }
  return palette;
}

function isGrey(palette: Uint8Array): boolean {
  for (let i = 0; i < palette.length; i += 3) {
    if (palette[i] !== palette[i + 1] || palette[i] !== palette[i + 2]) return false;
  }
  return true;
}

/** Decodes one stored row (starting at byte `at`) into `out` at `o`. */
type RowDecoder = (at: number, out: Uint8Array, o: number) => void;

function paletteRows(bytes: Uint8Array, header: BmpHeader, palette: Uint8Array, grey: boolean): RowDecoder {
  const { width, bitsPerPixel: bits } = header;
  const mask = (1 << bits) - 1;
  return (at, out, o) => {
    for (let x = 0; x < width; x++) {
      const bit = x * bits;
      const index = ((bytes[at + (bit >> 3)] as number) >> (8 - bits - (bit & 7))) & mask;
      if (grey) {
        out[o + x] = palette[index * 3] as number;
      } else {
        const p = index * 3;
        const q = o + x * 3;
        out[q] = palette[p] as number;
        out[q + 1] = palette[p + 1] as number;
        out[q + 2] = palette[p + 2] as number;
      }
    }
  };
}

function bgrRows(bytes: Uint8Array, width: number): RowDecoder {
  return (at, out, o) => {
    for (let x = 0; x < width; x++, at += 3, o += 3) {
      out[o] = bytes[at + 2] as number;
      out[o + 1] = bytes[at + 1] as number;
      out[o + 2] = bytes[at] as number;
    }
  };
}

function maskedRows(header: BmpHeader): RowDecoder {
  const { view, width, bitsPerPixel } = header;
  const channels = readMasks(header);
  const scale = (value: number, channel: Channel) =>
    channel.max === 0 ? 0 : Math.round((((value >>> channel.shift) & channel.max) * 255) / channel.max);
  return (at, out, o) => {
    for (let x = 0; x < width; x++, o += 3) {
      const value = bitsPerPixel === 32 ? view.getUint32(at + x * 4, true) : view.getUint16(at + x * 2, true);
      out[o] = scale(value, channels[0]);
      out[o + 1] = scale(value, channels[1]);
      out[o + 2] = scale(value, channels[2]);
    }
  };
}

/**
 * Rows decoded between two yields to the event loop: about a million pixels, a few ms, so a
 * 64 MP file never holds the server's other requests for more than that.
 */
const PIXELS_PER_SLICE = 1 << 20;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkDecodable(header: BmpHeader, maxPixels: number): void {
  const { width, height, bitsPerPixel, compression } = header;
  if (width <= 0 || height <= 0) throw new BadRequestError('corrupt_image', 'the BMP image has no pixels');
  if (width * height > maxPixels) {
    throw new TooLargeError(
      'image_too_large',
      `the image is ${width}x${height} = ${width * height} pixels; the limit is ${maxPixels}`,
    );
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new UnsupportedImageError(
      `compressed BMP files (compression type ${compression}: RLE, JPEG or PNG inside BMP) are not supported; save it as an uncompressed BMP, PNG or JPEG`,
    );
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) {
    throw new UnsupportedImageError(`BMP files with ${bitsPerPixel} bits per pixel are not supported`);
  }
}

/**
 * Decodes a BMP file to 8-bit pixels: one grey channel when the palette is grey (a 1-bit scan
 * then costs 1 byte a pixel, not 3), RGB otherwise. Sizes are checked against `maxPixels` and
 * against the file's length before any pixel memory is allocated, so a header that claims
 * 30000x30000 costs nothing; rows are decoded in slices with a yield between them.
 */
export async function decodeBmp(bytes: Uint8Array, maxPixels: number): Promise<DecodedBmp> {
  const header = readHeader(bytes);
  checkDecodable(header, maxPixels);
  const { width, height, bitsPerPixel, topDown } = header;
  const stride = Math.ceil((bitsPerPixel * width) / 32) * 4;
  if (header.pixelOffset + stride * height > bytes.length) throw truncated();

  const palette = bitsPerPixel <= 8 ? readPalette(header) : undefined;
  const channels = palette && isGrey(palette) ? 1 : 3;
  const decodeRow = palette
    ? paletteRows(bytes, header, palette, channels === 1)
    : bitsPerPixel === 24
      ? bgrRows(bytes, width)
      : maskedRows(header);
  const out = new Uint8Array(width * height * channels);
  const rowsPerSlice = Math.max(1, Math.floor(PIXELS_PER_SLICE / width));
  for (let y = 0; y < height; y++) {
    const at = header.pixelOffset + (topDown ? y : height - 1 - y) * stride;
    decodeRow(at, out, y * width * channels);
    if ((y + 1) % rowsPerSlice === 0) await nextTurn();
  }
  return { data: out, width, height, channels };
}
