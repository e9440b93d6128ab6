/** classify's descriptor section, `output:`: the labels and how the output becomes scores. */
import type * as Zod from 'zod';
import type { ModelDescriptor } from '../../model/descriptor.js';
import { fileRefSchema } from '../../model/file-ref.js';

export function outputSchema(z: typeof Zod.z) {
  return z.strictObject({
    name: z.string().optional(),
    labels: fileRefSchema(z),
    /** Output index i has label line i - label_offset (e.g. 1 when labels omit 'background'). */
    label_offset: z.int().default(0),
    top_k: z.int().positive().max(100).default(5),
    /** How to turn float outputs into scores in [0, 1]; uint8 outputs are read as value / 255. */
    activation: z.enum(['none', 'softmax', 'sigmoid']).default('none'),
  });
}

export type OutputSection = Zod.output<ReturnType<typeof outputSchema>>;

/** The `output:` section of a classify descriptor (validated by the descriptor schema). */
export function outputOf(descriptor: ModelDescriptor): OutputSection {
  return descriptor.output as OutputSection;
}
