/** classify's load-time check: the descriptor describes this model, and the labels fit its output. */
import type { TensorInfo } from '../../engine/types.js';
import { ModelLoadError } from '../../errors.js';
import { pickTensor } from '../../model/pick-tensor.js';
import type { ModelParts } from '../task.js';
import { outputOf } from './section.js';

export interface ClassifyState {
  /** Which of the model's outputs holds the scores. */
  readonly outputIndex: number;
  readonly outputSize: number;
}

/** Checks the scores output against the labels, so a mismatch fails at load, not per request. */
export function checkClassifier({ descriptor, engine, labels }: ModelParts): ClassifyState {
  const id = descriptor.id;
  const section = outputOf(descriptor);
  const outputIndex = pickTensor(engine.outputs, section.name, 'output', id);
  const output = engine.outputs[outputIndex] as TensorInfo;
  if (output.dtype !== 'uint8' && output.dtype !== 'float32') {
    throw new ModelLoadError(
      `model '${id}' output '${output.name}' is ${output.dtype}; a classifier needs uint8 or float32 scores`,
    );
  }
  const outputSize = output.shape.reduce((a, b) => a * b, 1);
  const offset = section.label_offset;
  if (outputSize !== labels.length + offset) {
    throw new ModelLoadError(
      `model '${id}' output '${output.name}' has ${outputSize} scores, but ${labels.length} labels with label_offset ${offset} cover ${labels.length + offset}`,
    );
  }
  return { outputIndex, outputSize };
}
