/**
 * How large a picture (an annotated photo, a mask, a cut-out) tflite-fn draws. Pictures are
 * drawn at the photo's own size, and drawing costs far more per pixel than reading a photo for
 * a model (which shrinks it while decoding): every pixel is decoded, composited with the
 * overlay and encoded again, and a PNG of a large photo is tens of megabytes. Photos above this
 * size are still answered in JSON and text; only their pictures are refused.
 */
import { TooLargeError } from '../errors.js';

/**
 * 40 megapixels: every phone's and most cameras' full-size photos. Measured on 2 loaded cores,
 * a picture of a 64 MP photo cost 0.4-1 GB of memory above the JSON answer's peak before
 * drawing streamed through libvips, and 0.17-0.4 GB with 1.5-3.6 s of CPU after (segment's
 * overlay the most memory: its mask layer is a full-size RGBA buffer; PNGs the most CPU). At
 * 40 MP a process drawing the costliest pictures peaks near 0.45 GB (test/picture-limit.test.ts).
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
