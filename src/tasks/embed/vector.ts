/** Embedding vectors: from a model's raw output to a unit vector, and how close two are. */
import type { TensorData } from '../../engine/types.js';
import { BadRequestError } from '../../errors.js';
import type { Quantization } from './output-quantization.js';

/**
 * The raw output as real numbers (dequantized when it is quantized), scaled to length 1, so
 * that the cosine similarity of two embeddings is their dot product and vectors from photos
 * of any brightness compare alike. An all-zero output stays all zeros.
 */
export function unitEmbedding(raw: TensorData, quantization: Quantization | undefined): Float64Array {
  const values = new Float64Array(raw.length);
  const scale = quantization?.scale ?? 1;
  const zeroPoint = quantization?.zeroPoint ?? 0;
  let sumOfSquares = 0;
  for (let i = 0; i < raw.length; i++) {
    const value = quantization ? scale * ((raw[i] as number) - zeroPoint) : (raw[i] as number);
    values[i] = value;
    sumOfSquares += value * value;
  }
  const norm = Math.sqrt(sumOfSquares);
  if (norm > 0) for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) / norm;
  return values;
}

/**
 * Cosine similarity of two vectors of the same length: 1 for the same direction, 0 for
 * unrelated (orthogonal), -1 for opposite. 0 when either vector is all zeros (no direction).
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new BadRequestError(
      'dimension_mismatch',
      `cannot compare embeddings of ${a.length} and ${b.length} dimensions (from different models?)`,
    );
  }
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return 0;
  // Rounding can put a vector's similarity with itself a hair above 1.
  return Math.max(-1, Math.min(1, dot / Math.sqrt(aa * bb)));
}
