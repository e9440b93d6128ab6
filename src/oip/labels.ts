/**
 * Which output elements have labels, for the classification extension: a classifier's scores
 * output, element i labelled by line i - label_offset of its labels file (the signature's
 * `labels`, see tensor-runner.ts). Other outputs (and other tasks' models) answer
 * "value:index" without a label.
 */
import type { ModelSignature } from './tensor-runner.js';

export function labelOfOutput(
  signature: ModelSignature,
): (output: number, index: number) => string | undefined {
  const labels = signature.labels;
  if (!labels) return () => undefined;
  return (output, index) => (output === labels.output ? labels.names[index - labels.offset] : undefined);
}
