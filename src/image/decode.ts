/**
 * Image bytes in, a sharp pipeline of upright 8-bit sRGB pixels out.
 *
 * This is where untrusted bytes meet native code, so it is also where limits live: an empty
 * body, too many bytes, a header promising too many pixels, a JPEG asking for too much work,
 * a format we do not accept, and a truncated file each become their own `TfliteFnError`
 * before or instead of a sharp failure.
 */
import type { Metadata, Sharp } from 'sharp';
import { MAX_BYTES, MAX_PIXELS } from '../config/index.js';
import { BadRequestError, TfliteFnError, TooLargeError, UnsupportedImageError } from '../errors.js';
import { decodeBmp, readBmpSize } from './bmp.js';
import { isHuffmanDct, type JpegStructure, readJpegStructure } from './jpeg-structure.js';
import { loadSharp } from './sharp-module.js';
import { type SniffedFormat, sniffFormat } from './sniff.js';
import { DECODE_TIMEOUT_SECONDS, JPEG_SCAN_PIXEL_BUDGET } from './work-limits.js';

export interface ImageLimits {
  /** Largest accepted input, in bytes. */
  readonly maxBytes: number;
  /** Largest accepted width x height, read from the header before decoding. */
  readonly maxPixels: number;
}

/** TFLITE_FN_MAX_BYTES and TFLITE_FN_MAX_PIXELS (their defaults, and why, are in src/config/variables.ts). */
export function defaultImageLimits(): ImageLimits {
  return { maxBytes: MAX_BYTES.value(), maxPixels: MAX_PIXELS.value() };
}

/**
 * Formats we hand to sharp (HEIF only when it is AVIF: the prebuilt libheif decodes only AV1).
 * SVG is left out on purpose: it can pull in other files. Anything else is refused before
 * sharp sees it (see sniff.ts).
 */
const SHARP_FORMATS = new Set<SniffedFormat>(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

const UNSUPPORTED_MESSAGE =
  'the data is not an image in a supported format (JPEG, PNG, WebP, GIF, AVIF, TIFF, BMP)';

export interface OpenedImage {
  /** Upright (EXIF orientation applied), alpha flattened onto white, 8-bit sRGB. */
  readonly pipeline: Sharp;
  /** Detected format: jpeg, png, webp, gif, avif, tiff or bmp. */
  readonly format: string;
  /** Size as stored in the file, before orientation. */
  readonly width: number;
  readonly height: number;
  /** Size once upright: EXIF orientations 5-8 turn the photo a quarter. */
  readonly uprightWidth: number;
  readonly uprightHeight: number;
}

function isSharpTimeout(cause: unknown): boolean {
  return /^timeout/i.test(cause instanceof Error ? cause.message : String(cause));
}

function tookTooLong(what: string, work: 'decode' | 'draw', cause: unknown): TfliteFnError {
  return new TooLargeError(
    'image_too_large',
    `${what} took more than ${DECODE_TIMEOUT_SECONDS} s to ${work}; send a smaller or simpler image`,
    { cause },
  );
}

/**
 * A sharp failure while drawing a picture (an annotated photo, a mask, a cut-out): a timeout
 * there is the drawing's, which a user must not read as their photo failing to decode (it
 * decoded for the inference); anything else maps as sharpErrorToTfliteFnError does.
 */
export function drawingErrorToTfliteFnError(cause: unknown): TfliteFnError {
  if (cause instanceof TfliteFnError) return cause;
  return isSharpTimeout(cause) ? tookTooLong('the picture', 'draw', cause) : sharpErrorToTfliteFnError(cause);
}

/**
 * What a decoder failure means, by class: too much work is 413; a format we recognised from
 * its magic bytes that then fails to decode is a damaged file, 400; bytes we could not place
 * are 415. `format` is what sniffFormat() (or sharp) said the bytes are, if anything.
 */
export function sharpErrorToTfliteFnError(cause: unknown, format?: string): TfliteFnError {
  if (cause instanceof TfliteFnError) return cause; // already says what it means (from openImage, say)
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) {
    return new TooLargeError('image_too_large', 'the image has more pixels than allowed', { cause });
  }
  if (isSharpTimeout(cause)) return tookTooLong('the image', 'decode', cause);
  if (format === undefined && /unsupported image format/i.test(message)) {
    return new UnsupportedImageError(UNSUPPORTED_MESSAGE, { cause });
  }
  const what = format ? `the ${format.toUpperCase()} image` : 'the image';
  return new BadRequestError(
    'corrupt_image',
    `${what} could not be decoded; it may be truncated or corrupt (${message.split('\n')[0]})`,
    { cause },
  );
}

function assertPixelCount(width: number, height: number, limits: ImageLimits): void {
  if (width * height > limits.maxPixels) {
    throw new TooLargeError(
      'image_too_large',
      `the image is ${width}x${height} = ${width * height} pixels; the limit is ${limits.maxPixels} (TFLITE_FN_MAX_PIXELS)`,
    );
  }
}

/**
 * Refuses, from the markers alone, JPEGs whose data cannot fill their frame or that ask for
 * too many scans; returns the structure read.
 */
function assertJpegWork(bytes: Uint8Array, limits: ImageLimits): JpegStructure {
  const jpeg = readJpegStructure(bytes);
  assertPixelCount(jpeg.width, jpeg.height, limits);
  if (isHuffmanDct(jpeg.frameMarker) && jpeg.entropyBytes * 8 < jpeg.fewestBlocks) {
    throw new BadRequestError(
      'corrupt_image',
      `the JPEG image is truncated: its header says ${jpeg.width}x${jpeg.height} but it holds only ${jpeg.entropyBytes} bytes of image data`,
    );
  }
  const pixels = jpeg.width * jpeg.height;
  if (jpeg.scans * pixels > JPEG_SCAN_PIXEL_BUDGET) {
    const allowed = Math.max(1, Math.floor(JPEG_SCAN_PIXEL_BUDGET / Math.max(1, pixels)));
    throw new TooLargeError(
      'image_too_large',
      `the progressive JPEG has ${jpeg.scans} scans of ${jpeg.width}x${jpeg.height} pixels; at most ${allowed} scans are accepted at this size`,
    );
  }
  return jpeg;
}

async function openBmp(bytes: Uint8Array, limits: ImageLimits): Promise<OpenedImage> {
  const size = readBmpSize(bytes);
  assertPixelCount(size.width, Math.abs(size.height), limits);
  const bmp = await decodeBmp(bytes, limits.maxPixels);
  const sharp = await loadSharp();
  const pipeline = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } })
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
    .toColourspace('srgb');
  const { width, height } = bmp;
  return { pipeline, format: 'bmp', width, height, uprightWidth: width, uprightHeight: height };
}

async function readMetadata(bytes: Uint8Array, format: SniffedFormat): Promise<Metadata> {
  const sharp = await loadSharp();
  try {
    // Headers are read without sharp's pixel limit, so the limit error below can name the size.
    return await sharp(bytes, { limitInputPixels: false, animated: false }).metadata();
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause, format);
  }
}

export async function openImage(
  bytes: Uint8Array,
  limits: ImageLimits = defaultImageLimits(),
): Promise<OpenedImage> {
  if (bytes.length === 0) throw new BadRequestError('empty_image', 'no image was sent: the input is empty');
  if (bytes.length > limits.maxBytes) {
    throw new TooLargeError(
      'payload_too_large',
      `the image is ${bytes.length} bytes; the limit is ${limits.maxBytes} (TFLITE_FN_MAX_BYTES)`,
    );
  }
  const sniffed = sniffFormat(bytes);
  if (sniffed === 'bmp') return openBmp(bytes, limits);
  if (sniffed === undefined || !SHARP_FORMATS.has(sniffed))
    throw new UnsupportedImageError(UNSUPPORTED_MESSAGE);
  const jpeg = sniffed === 'jpeg' ? assertJpegWork(bytes, limits) : undefined;

  const metadata = await readMetadata(bytes, sniffed);
  const isAvif = metadata.format === 'heif' && metadata.compression === 'av1';
  if (
    !metadata.format ||
    !SHARP_FORMATS.has(metadata.format as SniffedFormat) ||
    (metadata.format === 'heif' && !isAvif)
  ) {
    throw new UnsupportedImageError(
      `${metadata.format ?? 'this'} images are not supported; send JPEG, PNG, WebP, GIF, AVIF, TIFF or BMP`,
    );
  }
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  assertPixelCount(width, height, limits);

  // `failOn: 'warning'` (sharp's advice for untrusted input) refuses damaged files whose
  // decoder would otherwise fill the missing part with grey: a JPEG cut short and closed with
  // an end marker only warns. The one harmless warning we know of, stray bytes between JPEG
  // segments (some encoders pad), would refuse a whole photo: such files fail on errors only,
  // and the data-per-block check above still catches gross truncation. `animated: false`
  // takes the first frame of a GIF/WebP and the first page of a TIFF.
  const failOn = jpeg && jpeg.strayBytes > 0 ? 'error' : 'warning';
  const sharp = await loadSharp();
  const pipeline = sharp(bytes, { failOn, limitInputPixels: limits.maxPixels, animated: false })
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
    .autoOrient()
    // Transparent pixels become white, as a viewer shows them, instead of whatever colour
    // happens to be stored under alpha 0.
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb');
  const turned = (metadata.orientation ?? 1) >= 5;
  return {
    pipeline,
    format: isAvif ? 'avif' : metadata.format,
    width,
    height,
    uprightWidth: turned ? height : width,
    uprightHeight: turned ? width : height,
  };
}
