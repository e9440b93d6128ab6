/**
 * segment's descriptor section, `segment:`: which output holds the per-pixel scores, the
 * class names, which class is the background and (one-channel models) the default threshold.
 *
 *   segment:
 *     output: ResizeBilinear_1          # class scores [1, H, W, classes]
 *     upsampledTo: ResizeBilinear_2     # (optional) bilinearly upsampled by the task, or
 *     labels: { file: pascal_voc_segmentation_labels.txt, sha256: …, url: … }
 *   segment:
 *     output: activation_10             # a foreground probability [1, H, W, 1]
 *     classes: [background, person]
 *     threshold: 0.5
 */
import type * as Zod from 'zod';
import type { ModelDescriptor } from '../../model/descriptor.js';
import { fileRefSchema } from '../../model/file-ref.js';

export function segmentSchema(z: typeof Zod.z) {
  return z
    .strictObject({
      /** The per-pixel output; optional for a model with one output. */
      output: z.string().optional(),
      /**
       * The output of the model's RESIZE_BILINEAR that upsamples `output` to the mask
       * (DeepLab's ResizeBilinear_2, 33x33 → 513x513): the graph stops before it
       * (model.outputs: [output]) and the task finds that resize's argmax without computing
       * all of it, the same classes (upsample.ts).
       */
      upsampledTo: z.string().min(1).optional(),
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
