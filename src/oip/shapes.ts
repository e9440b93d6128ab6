/**
 * A model's tensor shapes as the protocol shows them. The engines report one item's shapes
 * (batch dimension 1); where the model runs any batch in one call, that dimension is open, -1
 * in metadata, and an answer's outputs have as many rows as the request had items.
 */
import type { BatchDimension } from './tensor-runner.js';

/** The shape metadata reports: the batch dimension -1 where it is open. */
export function protocolShape(shape: readonly number[], batch: BatchDimension): number[] {
  return batch.open && shape[0] === 1 ? [-1, ...shape.slice(1)] : [...shape];
}

/** The shape of a tensor holding `items` items (one item: the engine's own shape). */
export function shapeOfItems(shape: readonly number[], batch: BatchDimension, items: number): number[] {
  return batch.open && shape[0] === 1 ? [items, ...shape.slice(1)] : [...shape];
}
