/**
 * The picture most tasks answer with: the photo with the result drawn over it, as JPEG (the
 * first, so it answers Accept: image/*) and as PNG. Only types are imported here: the drawing
 * code loads on first use (see src/tasks/index.ts).
 */
import type { PictureFormat } from '../image/overlay.js';
import type { PictureRenderer } from './task.js';

/** Draws `result` over `image` (the photo as received) in one format. */
export type DrawOver<Result> = (
  image: Uint8Array,
  result: Result,
  format: PictureFormat,
) => Promise<Uint8Array>;

/**
 * `jpeg` and `png` pictures of the annotated photo; `describes` says what is drawn (e.g. 'the
 * photo with a box around every face'), the format is appended.
 */
export function annotatedPhotoPictures<Result>(
  describes: string,
  draw: DrawOver<Result>,
): { readonly jpeg: PictureRenderer<Result>; readonly png: PictureRenderer<Result> } {
  return {
    jpeg: {
      contentType: 'image/jpeg',
      describes: `${describes} (JPEG)`,
      render: (image, result) => draw(image, result, 'jpeg'),
    },
    png: {
      contentType: 'image/png',
      describes: 'the same, as PNG',
      render: (image, result) => draw(image, result, 'png'),
    },
  };
}
