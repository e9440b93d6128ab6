/**
 * The objects task's public result (README: "objects"): each detection with its label, class
 * index, score and box in the photo's upright pixels, best first.
 */
import type { TaskResultBase } from '../task.js';
import type { RawDetection } from './post-process.js';

export interface ObjectBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DetectedObject {
  /** The class's line in the labels file ('n/a' lines are COCO ids no class uses). */
  readonly label: string;
  /** 0-based class index, background excluded: the line of `label` in the labels file. */
  readonly class: number;
  readonly score: number;
  readonly box: ObjectBox;
}

export interface ObjectsResult extends TaskResultBase {
  readonly objects: readonly DetectedObject[];
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/**
 * Normalised detections (model input space) to pixels of the upright photo. The photo was
 * stretched to the input (`resize: fill`), so normalised x is a fraction of the photo's width
 * and y of its height. Boxes are clipped to the photo: SSD boxes may overhang its edges.
 */
export function toObjects(
  detections: readonly RawDetection[],
  labels: readonly string[],
  size: { readonly width: number; readonly height: number },
): DetectedObject[] {
  return detections.map((d) => {
    const left = clamp01(d.xmin) * size.width;
    const top = clamp01(d.ymin) * size.height;
    const right = clamp01(d.xmax) * size.width;
    const bottom = clamp01(d.ymax) * size.height;
    return {
      label: labels[d.classIndex] ?? `class ${d.classIndex}`,
      class: d.classIndex,
      score: round(d.score, 4),
      box: {
        x: round(left, 1),
        y: round(top, 1),
        width: round(Math.max(0, right - left), 1),
        height: round(Math.max(0, bottom - top), 1),
      },
    };
  });
}
