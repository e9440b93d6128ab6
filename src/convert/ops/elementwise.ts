/**
 * ADD, RELU and RELU6.
 *
 * Quantized ADD becomes ORT's QLinearAdd (com.microsoft): it rescales both operands to the
 * output scale and rounds once, as TFLite does, but in float32 where TFLite uses fixed point
 * (inputs shifted left by 20 bits, 31-bit multipliers), so an output on a rounding boundary
 * can land one step away. The fused activation is a clamp on the quantized result.
 */
import { ActivationFunctionType, ActivationOptions, BuiltinOptionsType } from '../tflite-schema.js';
import { floatActivation, quantizedActivation } from './activation.js';
import {
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  requireFloat,
  type TensorView,
} from './context.js';

/** Both operands of a binary op in one layout: NCHW when both are 4-D, else TFLite's own. */
function binaryLayout(a: TensorView, b: TensorView): Layout {
  return a.shape.length === 4 && b.shape.length === 4 ? 'nchw' : 'nhwc';
}

export function lowerAdd(ctx: LoweringContext, op: OperatorView): void {
  const activation = optionsOf(ctx, op, BuiltinOptionsType.AddOptions, ActivationOptions).fusedActivation;
  const a = ctx.tensor(op.inputs[0] ?? -1);
  const b = ctx.tensor(op.inputs[1] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const layout = binaryLayout(a, b);
  const x = ctx.value(a.index, layout);
  const y = ctx.value(b.index, layout);
  let sum: string;
  if (isQuantizedType(output.type)) {
    if (a.type !== output.type || b.type !== output.type) throw ctx.error('ADD operands of different types');
    sum = ctx.op(
      'QLinearAdd',
      [x, ...ctx.quantInputs(a), y, ...ctx.quantInputs(b), ...ctx.quantInputs(output)],
      undefined,
      'com.microsoft',
    );
    sum = quantizedActivation(ctx, sum, activation, output);
  } else {
    requireFloat(ctx, a, b, output);
    sum = floatActivation(ctx, ctx.op('Add', [x, y]), activation);
  }
  ctx.bind(output.index, layout, sum);
}

/** A standalone RELU or RELU6: the fused-activation code on its own. */
function lowerActivation(ctx: LoweringContext, op: OperatorView, activation: number): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const layout: Layout = 'nchw';
  const x = ctx.value(input.index, layout);
  if (isQuantizedType(output.type)) {
    const inQuant = ctx.requirePerTensor(input);
    const outQuant = ctx.requirePerTensor(output);
    // With equal parameters TFLite only clamps; otherwise it requantizes, which we leave out.
    if (
      input.type !== output.type ||
      inQuant.scales[0] !== outQuant.scales[0] ||
      inQuant.zeroPoints[0] !== outQuant.zeroPoints[0]
    ) {
      throw ctx.error('a quantized activation that changes scale or zero point is not supported');
    }
    ctx.bind(output.index, layout, quantizedActivation(ctx, x, activation, output));
    return;
  }
  requireFloat(ctx, input, output);
  ctx.bind(output.index, layout, floatActivation(ctx, x, activation));
}

export function lowerRelu(ctx: LoweringContext, op: OperatorView): void {
  lowerActivation(ctx, op, ActivationFunctionType.RELU);
}

export function lowerRelu6(ctx: LoweringContext, op: OperatorView): void {
  lowerActivation(ctx, op, ActivationFunctionType.RELU6);
}
