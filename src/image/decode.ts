/**
 * Image bytes in, a sharp pipeline of upright 8-bit sRGB pixels out.
 *
 * This is where untrusted bytes meet native code, so it is also where limits live: an empty
 * body, too many bytes, a header promising too many pixels, a format we do not accept, and a
 * truncated file each become their own `TfliteFnError` before or instead of a sharp failure.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { BadRequestError, type TfliteFnError, TooLargeError, UnsupportedImageError } from '../errors.js';
import { decodeBmp, isBmp, readBmpSize } from './bmp.js';

export interface ImageLimits {
  /** Largest accepted input, in bytes. */
  readonly maxBytes: number;
  /** Largest accepted width x height, read from the header before decoding. */
  readonly maxPixels: number;
}

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * 64 megapixels covers every phone camera we know of short of the 100+ MP sensors, whose
 * decode alone would need ~300 MB. 32 MiB of bytes is far above any of those as a JPEG.
 */
export function defaultImageLimits(): ImageLimits {
  return {
    maxBytes: envNumber('TFLITE_FN_MAX_BYTES', 32 * 1024 * 1024),
    maxPixels: envNumber('TFLITE_FN_MAX_PIXELS', 64_000_000),
  };
}

/** Formats we hand to sharp. SVG is left out on purpose: it can pull in other files. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

export interface OpenedImage {
  /** Upright (EXIF orientation applied), alpha flattened onto white, 8-bit sRGB. */
  readonly pipeline: Sharp;
  /** Detected format: jpeg, png, webp, gif, avif, tiff or bmp. */
  readonly format: string;
  /** Size as stored in the file, before orientation. */
  readonly width: number;
  readonly height: number;
  /** Width once upright: EXIF orientations 5-8 turn the photo a quarter. */
  readonly uprightWidth: number;
}

/** Maps sharp's error text to what it means for the caller. */
export function sharpErrorToTfliteFnError(cause: unknown): TfliteFnError {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/unsupported image format/i.test(message)) {
    return new UnsupportedImageError(
      'the data is not an image in a supported format (JPEG, PNG, WebP, GIF, AVIF, TIFF, BMP)',
      { cause },
    );
  }
  if (/pixel limit/i.test(message)) {
    return new TooLargeError('image_too_large', 'the image has more pixels than allowed', { cause });
  }
  return new BadRequestError(
    'corrupt_image',
    `the image could not be decoded; it may be truncated or corrupt (${message.split('\n')[0]})`,
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

  if (isBmp(bytes)) {
    const size = readBmpSize(bytes);
    assertPixelCount(size.width, Math.abs(size.height), limits);
    const bmp = decodeBmp(bytes, limits.maxPixels);
    const pipeline = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
    return { pipeline, format: 'bmp', width: bmp.width, height: bmp.height, uprightWidth: bmp.width };
  }

  // `failOn: 'truncated'` rejects cut-off files but tolerates the harmless warnings that many
  // real cameras' JPEGs trigger. `animated: false` takes the first frame of a GIF/WebP.
  const input = sharp(bytes, { failOn: 'truncated', limitInputPixels: limits.maxPixels, animated: false });
  let metadata: Metadata;
  try {
    // Headers are read without sharp's pixel limit, so the limit error below can name the size.
    metadata = await sharp(bytes, { limitInputPixels: false, animated: false }).metadata();
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause);
  }
  const isAvif = metadata.format === 'heif' && metadata.compression === 'av1';
  if (!metadata.format || !ACCEPTED_FORMATS.has(metadata.format) || (metadata.format === 'heif' && !isAvif)) {
    throw new UnsupportedImageError(
      `${metadata.format ?? 'this'} images are not supported; send JPEG, PNG, WebP, GIF, AVIF, TIFF or BMP`,
    );
  }
  assertPixelCount(metadata.width ?? 0, metadata.height ?? 0, limits);

  const pipeline = input
    .autoOrient()
    // Transparent pixels become white, as a viewer shows them, instead of whatever colour
    // happens to be stored under alpha 0.
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb');
  return {
    pipeline,
    format: isAvif ? 'avif' : metadata.format,
    width: metadata.width ?? 0,
    height: metadata.height ?? 0,
    uprightWidth: (metadata.orientation ?? 1) >= 5 ? (metadata.height ?? 0) : (metadata.width ?? 0),
  };
}
