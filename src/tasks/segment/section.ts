/**
 * segment's descriptor section, `segment:`: which output holds the per-pixel scores, the
 * class names, which class is the background and (one-channel models) the default threshold.
 *
 *   segment:
 *     output: ResizeBilinear_1          # class scores [1, H, W, classes]
 *     upsample: align_corners           # scaled up to the input size by the task, or
 *     labels: { file: pascal_voc_segmentation_labels.txt, sha256: …, url: … }
 *   segment:
 *     output: activation_10             # a foreground probability [1, H, W, 1]
 *     classes: [background, person]
 *     threshold: 0.5
 */
import type * as Zod from 'zod';
import type { ModelDescriptor } from '../../model/descriptor.js';
import { fileRefSchema } from '../../model/file-ref.js';

/** TFLite's three coordinate mappings of RESIZE_BILINEAR, as a descriptor names them. */
export const UPSAMPLE_MODES = ['align_corners', 'half_pixel_centers', 'asymmetric'] as const;
export type UpsampleMode = (typeof UPSAMPLE_MODES)[number];

export function segmentSchema(z: typeof Zod.z) {
  return z
    .strictObject({
      /** The per-pixel output; optional for a model with one output. */
      output: z.string().optional(),
      /**
       * Class-score models whose graph ends by scaling the scores up to the input size with a
       * uint8 RESIZE_BILINEAR that keeps their quantization (DeepLab's ResizeBilinear_2, 33x33
       * to 513x513), cut off by the descriptor (model.outputs: [output]): that resize's
       * coordinate mode. The task finds the argmax of the resize, LiteRT's classes exactly,
       * without computing all of it (upsample.ts). `none`: the output is the mask.
       */
      upsample: z.enum(['none', ...UPSAMPLE_MODES]).default('none'),
      /** Class names, line i = channel i (lines after the last channel are ignored). */
      labels: fileRefSchema(z).optional(),
      /** Or the names inline; a one-channel model has two: background, then foreground. */
      classes: z.array(z.string().min(1)).min(2).max(256).optional(),
      /** The class the cut-out removes and the overlay leaves untinted. */
      background: z.string().min(1).default('background'),
      /** One-channel models: the probability a pixel needs to be foreground. */
      threshold: z.number().min(0).max(1).default(0.5),
    })
    .refine((section) => (section.labels === undefined) !== (section.classes === undefined), {
      message: 'give the class names either as labels (a file) or as classes (a list), not both',
    });
}

export type SegmentSection = Zod.output<ReturnType<typeof segmentSchema>>;

/** The `segment:` section of a segment descriptor (validated by the descriptor schema). */
export function segmentSectionOf(descriptor: ModelDescriptor): SegmentSection {
  return descriptor.segment as SegmentSection;
}
