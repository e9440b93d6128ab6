/**
 * MUL, with TFLite's (numpy's) broadcasting, which ONNX's Mul shares.
 *
 * Quantized, LiteRT computes it on XNNPACK: the int32 product of the two inputs minus their
 * zero points, times the float32 ratio (input scale x input scale / output scale), rounded half
 * to even, plus the output zero point, clamped. The ONNX graph does exactly that: the product
 * of two bytes minus zero points is below 2^17, so its float32 is exact and the one rounding
 * is the float32 multiplication, as in XNNPACK; QuantizeLinear with scale 1 rounds to even and
 * saturates. test/convert-ops.test.ts compares all 65536 input pairs with LiteRT.
 */

import { ActivationOptions, BuiltinOptionsType, TensorType } from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import { floatActivation, quantizedActivation } from './activation.js';
import {
  elementCount,
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  requireFloat,
  type TensorView,
} from './context.js';

/**
 * One layout for both operands of a broadcasting op: NCHW when both are 4-D, the 4-D one's own
 * when the other is a single value (it broadcasts in either), else TFLite's order.
 */
export function broadcastLayout(ctx: LoweringContext, a: TensorView, b: TensorView): Layout {
  if (a.shape.length === 4 && b.shape.length === 4) return 'nchw';
  if (a.shape.length === 4 && elementCount(b.shape) === 1 && b.shape.length <= 1)
    return ctx.heldLayout(a.index);
  if (b.shape.length === 4 && elementCount(a.shape) === 1 && a.shape.length <= 1)
    return ctx.heldLayout(b.index);
  return 'nhwc';
}

export function lowerMul(ctx: LoweringContext, op: OperatorView): void {
  const activation = optionsOf(ctx, op, BuiltinOptionsType.MulOptions, ActivationOptions).fusedActivation;
  const a = ctx.tensor(op.inputs[0] ?? -1);
  const b = ctx.tensor(op.inputs[1] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const layout = broadcastLayout(ctx, a, b);
  const x = ctx.value(a.index, layout);
  const y = ctx.value(b.index, layout);
  let product: string;
  if (isQuantizedType(output.type)) {
    if (a.type !== output.type || b.type !== output.type) throw ctx.error('MUL operands of different types');
    product = quantizedActivation(ctx, quantizedMul(ctx, x, y, a, b, output), activation, output);
  } else if (output.type === TensorType.INT32) {
    if (a.type !== output.type || b.type !== output.type) throw ctx.error('MUL operands of different types');
    if (activation !== 0) throw ctx.error('a fused activation on an int32 MUL is not supported');
    product = ctx.op('Mul', [x, y]);
  } else {
    requireFloat(ctx, a, b, output);
    product = floatActivation(ctx, ctx.op('Mul', [x, y]), activation);
  }
  ctx.bind(output.index, layout, product);
}

/** (a - za)(b - zb) in int32, times the float32 ratio, rounded to even, plus zc, saturated. */
function quantizedMul(
  ctx: LoweringContext,
  x: string,
  y: string,
  a: TensorView,
  b: TensorView,
  output: TensorView,
): string {
  const [aq, bq, oq] = ctx.requirePerTensorEach([a, b, output]);
  const f = Math.fround;
  const ratio = f(f((aq.scales[0] as number) * (bq.scales[0] as number)) / (oq.scales[0] as number));
  const centred = (value: string, zeroPoint: number) =>
    ctx.op('Sub', [
      ctx.op('Cast', [value], { to: attr.int(OnnxDataType.INT32) }),
      ctx.int32Scalar(zeroPoint),
    ]);
  const product = ctx.op('Mul', [
    centred(x, aq.zeroPoints[0] as number),
    centred(y, bq.zeroPoints[0] as number),
  ]);
  const real = ctx.op('Mul', [
    ctx.op('Cast', [product], { to: attr.int(OnnxDataType.FLOAT) }),
    ctx.float32Scalar(ratio),
  ]);
  return ctx.op('QuantizeLinear', [
    real,
    ctx.float32Scalar(1),
    ctx.quantScalar(oq.zeroPoints[0] as number, output.type),
  ]);
}
