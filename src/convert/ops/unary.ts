/**
 * LOGISTIC and HARD_SWISH.
 *
 * Float: Sigmoid, and x * HardSigmoid(x) with HardSigmoid's slope 1/6 and offset 1/2, which is
 * x * relu6(x + 3) / 6 as TFLite defines it (XNNPACK computes it in the same order).
 *
 * Quantized, a unary op is a function of one stored byte: the ONNX graph looks the answer up
 * in a 256-entry table computed here (see lookupTable), so it is exact on every CPU once the
 * table is LiteRT's. test/convert-ops.test.ts compares every entry with LiteRT.
 */

import { tensorTypeName } from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import {
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  quantOnnxType,
  requireFloat,
  type TensorView,
} from './context.js';

/**
 * The stored output for every stored input of a quantized unary op computing `f` on real
 * values: dequantize in float32, `f` in double, divide by the output scale and round half away
 * from zero (TFLite's LUT and XNNPACK's agree away from exact halves), add the zero point and
 * saturate. Works on TFLite's own stored values; an int8 tensor is held as uint8 (context.ts),
 * so entry i is for the stored value i + lowest and holds its result + 128.
 */
export function quantizedUnaryTable(
  ctx: LoweringContext,
  input: TensorView,
  output: TensorView,
  f: (x: number) => number,
): Uint8Array {
  if (input.tfliteType !== output.tfliteType) {
    throw ctx.error(
      `quantized ${tensorTypeName(input.tfliteType)} input with a ${tensorTypeName(output.tfliteType)} output`,
    );
  }
  const inQuant = ctx.requirePerTensor(input);
  const outQuant = ctx.requirePerTensor(output);
  const held = input.type !== input.tfliteType ? 128 : 0;
  const inScale = inQuant.scales[0] as number;
  const inZero = (inQuant.zeroPoints[0] as number) - held;
  const outScale = outQuant.scales[0] as number;
  const outZero = (outQuant.zeroPoints[0] as number) - held;
  const lowest = -held;
  return Uint8Array.from({ length: 256 }, (_, i) => {
    const x = Math.fround(inScale * (i + lowest - inZero));
    const scaled = f(x) / outScale;
    const q = Math.sign(scaled) * Math.round(Math.abs(scaled)) + outZero;
    return Math.min(lowest + 255, Math.max(lowest, q)) + held;
  });
}

/** Looks every stored byte of `x` up in `table` (256 entries, typed like `output`). */
export function lookupTable(ctx: LoweringContext, x: string, table: Uint8Array, output: TensorView): string {
  const values = ctx.initializer('table', quantOnnxType(output.type), [256], table);
  const indices = ctx.op('Cast', [x], { to: attr.int(OnnxDataType.INT32) });
  return ctx.op('Gather', [values, indices], { axis: attr.int(0) });
}

function lowerUnary(
  ctx: LoweringContext,
  op: OperatorView,
  float: (x: string) => string,
  real: ((x: number) => number) | undefined,
): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  if (input.shape.join() !== output.shape.join()) {
    throw ctx.error(`input [${input.shape}] and output [${output.shape}] differ in shape`);
  }
  // Element-wise: whichever layout the input already has serves.
  const layout: Layout = ctx.heldLayout(input.index);
  const x = ctx.value(input.index, layout);
  if (isQuantizedType(input.type)) {
    if (!real) throw ctx.error(`${op.name} on ${tensorTypeName(input.tfliteType)} tensors is not supported`);
    const table = quantizedUnaryTable(ctx, input, output, real);
    ctx.bind(output.index, layout, lookupTable(ctx, x, table, output));
    return;
  }
  requireFloat(ctx, input, output);
  ctx.bind(output.index, layout, float(x));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function lowerLogistic(ctx: LoweringContext, op: OperatorView): void {
  lowerUnary(ctx, op, (x) => ctx.op('Sigmoid', [x]), sigmoid);
}

export function lowerHardSwish(ctx: LoweringContext, op: OperatorView): void {
  lowerUnary(
    ctx,
    op,
    (x) =>
      ctx.op('Mul', [x, ctx.op('HardSigmoid', [x], { alpha: attr.float(1 / 6), beta: attr.float(0.5) })]),
    // TFLite's quantized HARD_SWISH is fixed-point arithmetic of its own, not this function.
    undefined,
  );
}
