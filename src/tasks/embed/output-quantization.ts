/**
 * How to read a quantized output as real numbers: its scale and zero point, read from the
 * .tflite file itself (real = scale * (q - zero_point)). The engines hand uint8 outputs back
 * as they are; an embedding's zero point shifts every component, so it must be taken off
 * before vectors are compared.
 */

import { ModelLoadError } from '../../errors.js';
import { readTfliteModel, withModelErrors } from '../../tflite/read.js';

export interface Quantization {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * The quantization of the model's output `name`, or of its output number `index` when no
 * tensor has that name (LiteRT.js names outputs from the model's signature, which may differ
 * from the tensor's own name). Undefined for a float output. `bytes` is the whole file: in a
 * descriptor that cuts the graph (model.outputs), the output is a tensor inside it, found by
 * its name among all tensors, not among the file's own outputs.
 */
export function outputQuantization(
  bytes: Uint8Array,
  label: string,
  output: { readonly name: string; readonly index: number },
): Quantization | undefined {
  const model = readTfliteModel(bytes, label);
  return withModelErrors(label, () => {
    const graph = model.subgraphs[0];
    if (!graph) throw new ModelLoadError(`${label} has no subgraph`);
    const tensors = graph.tensors;
    const anywhere = tensors.findIndex((tensor) => tensor?.name === output.name);
    const index =
      graph.outputs.find((i) => tensors[i]?.name === output.name) ??
      (anywhere >= 0 ? anywhere : graph.outputs[output.index]);
    const tensor = index === undefined ? undefined : tensors[index];
    if (!tensor) throw new ModelLoadError(`${label} has no output '${output.name}'`);
    const quantization = tensor.quantization;
    const scales = quantization?.scale ?? [];
    if (scales.length === 0) return undefined;
    if (scales.length !== 1) {
      throw new ModelLoadError(
        `${label}: output '${tensor.name}' is quantized per channel (${scales.length} scales); an embedding output needs one scale`,
      );
    }
    return { scale: scales[0] as number, zeroPoint: quantization?.zeroPoint[0] ?? 0 };
  });
}
