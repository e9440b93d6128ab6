/**
 * objects' descriptor section, `objects:`. Everything about the post-processing (anchors,
 * scales, NMS, counts) is read from the model itself; the section names only what the model
 * cannot say: its labels, and the score a detection needs by default.
 */
import type * as Zod from 'zod';
import type { ModelDescriptor } from '../../model/descriptor.js';
import { fileRefSchema } from '../../model/file-ref.js';

export function objectsSchema(z: typeof Zod.z) {
  return z.strictObject({
    /** Line i names class i (the post-processing's class index, background excluded). */
    labels: fileRefSchema(z),
    /**
     * The score a detection needs when a request names no threshold. Not the model's own
     * nms_score_threshold: SSD models ship with ~0 there (the operator returns its best boxes
     * whatever they score, for the application to filter).
     */
    threshold: z.number().min(0).max(1).default(0.5),
  });
}

export type ObjectsSection = Zod.output<ReturnType<typeof objectsSchema>>;

/** The `objects:` section of an objects descriptor (validated by the descriptor schema). */
export function objectsSectionOf(descriptor: ModelDescriptor): ObjectsSection {
  return descriptor.objects as ObjectsSection;
}
