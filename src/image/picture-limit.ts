/**
 * How large a picture (an annotated photo, a mask, a cut-out) tflite-fn draws. Pictures are
 * drawn at the photo's own size, and drawing costs far more per pixel than reading a photo for
 * a model (which shrinks it while decoding): every pixel is decoded, composited with the
 * overlay and encoded again, and a PNG of a large photo is tens of megabytes. Photos above this
 * size are still answered in JSON and text; only their pictures are refused.
 */
import { TooLargeError } from '../errors.js';

/**
 * 40 megapixels: every phone's and most cameras' full-size photos. Measured on 2 loaded cores:
 * drawing a 64 MP photo's picture peaked at 0.85-1.1 GB before drawing streamed through
 * libvips, ~0.3-0.55 GB after (segment's overlay the most: its mask layer is a full-size RGBA
 * buffer) and a PNG took ~3 s of CPU; a process drawing the costliest pictures of a 40 MP photo
 * peaked at ~0.4 GB (test/picture-limit.test.ts).
 */
const DEFAULT_MAX_PICTURE_PIXELS = 40_000_000;

export function maxPicturePixels(): number {
  const value = Number(process.env.TFLITE_FN_MAX_PICTURE_PIXELS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_PICTURE_PIXELS;
}

/** Refuses (413 picture_too_large) to draw a picture of width x height, before anything is allocated. */
export function assertPictureSize(width: number, height: number): void {
  const limit = maxPicturePixels();
  if (width * height > limit) {
    throw new TooLargeError(
      'picture_too_large',
      `the photo is ${width}x${height} = ${width * height} pixels; pictures are drawn for photos of at most ${limit} pixels (TFLITE_FN_MAX_PICTURE_PIXELS). Ask for JSON, or send a smaller photo`,
    );
  }
}
