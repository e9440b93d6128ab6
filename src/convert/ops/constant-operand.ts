/**
 * A quantized binary op whose constant operand gives the same result for every one of its
 * elements is a function of the other operand's byte alone: nothing at all when that is the
 * identity, else a 256-entry table where the constant has several elements (a single value
 * broadcasts fast and stays in float ops). MoveNet's input normalisation subtracts a per-channel
 * mean quantized at a scale of 1e-6 from pixels at a scale of 1: the result is the input, but
 * as an element-wise op broadcasting [1, 1, 1, 3] over the photo it cost onnxruntime a
 * millisecond (a fifth of the model), since ORT broadcasts a 3-element span element by element.
 */
import type { LoweringContext, TensorView } from './context.js';
import { lookupTable } from './unary.js';

/**
 * The per-byte table of the non-constant operand, when `results` (256 * a + b -> result, held
 * values) does not depend on which of the constant's values it is combined with, and the other
 * operand already has the output's shape (a table cannot broadcast it).
 */
function tableOverOtherOperand(
  ctx: LoweringContext,
  results: ArrayLike<number>,
  a: TensorView,
  b: TensorView,
  output: TensorView,
): { operand: 'a' | 'b'; table: Uint8Array } | undefined {
  for (const [constant, other, operand] of [
    [b, a, 'a'],
    [a, b, 'b'],
  ] as const) {
    const stored = ctx.constant(constant.index);
    if (!stored || other.shape.join() !== output.shape.join()) continue;
    const row = (value: number) =>
      Uint8Array.from({ length: 256 }, (_, i) =>
        operand === 'a' ? (results[i * 256 + value] as number) : (results[value * 256 + i] as number),
      );
    const [first, ...rest] = [...new Set(stored.raw)].map(row);
    if (first && rest.every((table) => table.every((value, i) => value === first[i]))) {
      return { operand, table: first };
    }
  }
  return undefined;
}

/**
 * The op as a lookup in the non-constant operand (see the module comment), or undefined when
 * its result depends on both.
 */
export function constantOperandLookup(
  ctx: LoweringContext,
  results: ArrayLike<number>,
  operands: { readonly a: TensorView; readonly b: TensorView; readonly x: string; readonly y: string },
  output: TensorView,
): string | undefined {
  const { a, b, x, y } = operands;
  const found = tableOverOtherOperand(ctx, results, a, b, output);
  if (!found) return undefined;
  const input = found.operand === 'a' ? a : b;
  const value = found.operand === 'a' ? x : y;
  const identity = found.table.every((result, i) => result === i) && input.type === output.type;
  if (identity) return value;
  // A single constant value broadcasts fast, and float ops beat a gather (a Cast and a Gather
  // of a 48x48x17 heatmap cost ORT 0.27 ms, the float formulation about half).
  const constant = found.operand === 'a' ? b : a;
  if (constant.shape.reduce((n, d) => n * d, 1) === 1) return undefined;
  return lookupTable(ctx, value, found.table, output);
}
