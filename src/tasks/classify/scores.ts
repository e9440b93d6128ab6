/** From the model's raw output to labelled scores in [0, 1], best first. */
import type { TensorData } from '../../engine/types.js';
import type { Prediction } from './result.js';
import type { OutputSection } from './section.js';

/** Scores in [0, 1] from the raw output, per the descriptor's activation. */
export function toScores(raw: TensorData, activation: OutputSection['activation']): Float64Array {
  const scores = new Float64Array(raw.length);
  if (raw instanceof Uint8Array) {
    for (let i = 0; i < raw.length; i++) scores[i] = (raw[i] as number) / 255;
    return scores;
  }
  if (activation === 'softmax') {
    let max = -Infinity;
    for (const value of raw) max = Math.max(max, Number(value));
    let sum = 0;
    for (let i = 0; i < raw.length; i++) {
      const e = Math.exp(Number(raw[i]) - max);
      scores[i] = e;
      sum += e;
    }
    for (let i = 0; i < raw.length; i++) scores[i] = (scores[i] as number) / sum;
  } else {
    for (let i = 0; i < raw.length; i++) {
      const value = Number(raw[i]);
      scores[i] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-value)) : value;
    }
  }
  return scores;
}

export function topPredictions(
  scores: Float64Array,
  labels: readonly string[],
  labelOffset: number,
  count: number,
): Prediction[] {
  const order = Array.from(scores.keys()).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number) || a - b,
  );
  return order.slice(0, count).map((index) => ({
    label: labels[index - labelOffset] ?? `#${index}`,
    index,
    score: Math.round((scores[index] as number) * 1e6) / 1e6,
  }));
}
