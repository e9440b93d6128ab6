/**
 * How large a picture (an annotated photo, a mask, a cut-out) tflite-fn draws. Pictures are
 * drawn at the photo's own size, and drawing costs far more per pixel than reading a photo for
 * a model (which shrinks it while decoding): every pixel is decoded, composited with the
 * overlay and encoded again, and a PNG of a large photo is tens of megabytes. Photos above this
 * size are still answered in JSON and text; only their pictures are refused.
 */
import { MAX_PICTURE_PIXELS } from '../config/index.js';
import { TooLargeError } from '../errors.js';

/** TFLITE_FN_MAX_PICTURE_PIXELS: 40 megapixels unless set (src/config/variables.ts says why). */
export function maxPicturePixels(): number {
  return MAX_PICTURE_PIXELS.value();
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
