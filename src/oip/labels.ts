/**
 * Which output elements have labels, for the classification extension: a classifier's scores
 * output, element i labelled by line i - label_offset of its labels file. Other outputs (and
 * other tasks' models) answer "value:index" without a label.
 */
import type { ClassifyState } from '../tasks/classify/check.js';
import { outputOf } from '../tasks/classify/section.js';
import type { LoadedModel } from '../tasks/task.js';

export function labelOfOutput(
  model: LoadedModel<unknown>,
): (output: number, index: number) => string | undefined {
  if (model.descriptor.task !== 'classify' || model.labels.length === 0) return () => undefined;
  const { outputIndex } = model.state as ClassifyState;
  const offset = outputOf(model.descriptor).label_offset;
  return (output, index) => (output === outputIndex ? model.labels[index - offset] : undefined);
}
