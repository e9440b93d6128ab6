/** segment's result: what the JSON carries, and the per-pixel arrays the pictures are drawn from. */
import type { TaskResultBase } from '../task.js';
import type { ClassShare, MaskSize } from './masks.js';

/** How the model's output became classes. */
export type MaskKind = 'classes' | 'probability';

export interface Segmentation extends TaskResultBase {
  /** The mask's size (the model's output); it covers the whole photo, stretched. */
  readonly mask: MaskSize & { readonly kind: MaskKind };
  /** Every class present, most pixels first, with its share of the photo's area. */
  readonly classes: readonly ClassShare[];
  /** What the cut-out keeps: these classes, and their share of the photo. */
  readonly foreground: { readonly classes: readonly string[]; readonly fraction: number };
  /** The foreground probability a pixel needs (probability models only). */
  readonly threshold?: number;
  /**
   * Not in JSON (toJson drops it): per mask pixel, row by row, the class index, and the
   * cut-out's alpha (0-255). Plain bytes so a result crosses a worker boundary as it is.
   */
  readonly pixels: { readonly classes: Uint8Array; readonly alpha: Uint8Array };
}

/** The result as JSON: everything but the per-pixel arrays. */
export function segmentationJson(result: Segmentation): Omit<Segmentation, 'pixels'> {
  const { pixels: _pixels, ...json } = result;
  return json;
}
