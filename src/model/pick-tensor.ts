/** Finding a model's input or output by the name a descriptor gives. */
import type { TensorInfo } from '../engine/types.js';
import { ModelLoadError } from '../errors.js';

/** Index of the tensor named `name`, or the only one when no name is given. */
export function pickTensor(
  tensors: readonly TensorInfo[],
  name: string | undefined,
  kind: 'input' | 'output',
  id: string,
): number {
  if (name === undefined) {
    if (tensors.length === 1) return 0;
    throw new ModelLoadError(
      `model '${id}' has ${tensors.length} ${kind}s (${tensors.map((t) => t.name).join(', ')}); name one in the descriptor's ${kind}.name`,
    );
  }
  const index = tensors.findIndex((tensor) => tensor.name === name);
  if (index < 0) {
    throw new ModelLoadError(
      `model '${id}' has no ${kind} named '${name}'; its ${kind}s are: ${tensors.map((t) => `'${t.name}'`).join(', ') || '(unnamed)'}`,
    );
  }
  return index;
}
