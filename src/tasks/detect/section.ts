/**
 * detect's descriptor section, `detect:`. Single-shot detectors in the SSD style of
 * MediaPipe's BlazeFace: per anchor, box regressors (centre offset, size, then keypoints) and
 * one score logit. Anchors follow the SSD anchor scheme the model was trained with.
 */
import type * as Zod from 'zod';
import type { ModelDescriptor } from '../../model/descriptor.js';

export function detectSchema(z: typeof Zod.z) {
  return z.strictObject({
    regressors: z.string(),
    scores: z.string(),
    anchors: z.strictObject({
      strides: z.array(z.int().positive()).min(1),
      offset: z.number().default(0.5),
      /** Anchors per feature-map cell for each layer (BlazeFace: 2 short range, 1 full range). */
      per_cell: z.int().positive().default(2),
    }),
    keypoints: z.int().min(0).default(6),
    /** Sigmoid score a detection needs. */
    min_score: z.number().min(0).max(1).default(0.5),
    /** Boxes overlapping more than this (intersection over union) are merged. */
    iou_threshold: z.number().min(0).max(1).default(0.3),
  });
}

export type DetectSection = Zod.output<ReturnType<typeof detectSchema>>;

/** The `detect:` section of a detect descriptor (validated by the descriptor schema). */
export function detectSectionOf(descriptor: ModelDescriptor): DetectSection {
  return descriptor.detect as DetectSection;
}
