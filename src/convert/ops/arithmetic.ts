/**
 * SUB, DIV, FLOOR_DIV, SQRT and CAST: element-wise arithmetic with TFLite's (numpy's)
 * broadcasting, which ONNX's binary ops share.
 *
 * Quantized SUB is LiteRT's XNNPACK subtraction, exactly (see exactQuantizedAdd). Integer
 * division needs a divisor known at conversion time and free of zeros: a zero would stop
 * LiteRT with an error but kill the whole process in onnxruntime (SIGFPE).
 */

import { ActivationOptions, BuiltinOptionsType, TensorType, tensorTypeName } from '../../tflite/schema.js';
import { attr } from '../onnx-writer.js';
import { floatActivation } from './activation.js';
import {
  isQuantizedType,
  type LoweringContext,
  type OperatorView,
  onnxType,
  optionsOf,
  readInt32s,
  requireFloat,
  type TensorView,
} from './context.js';
import { exactQuantizedAdd } from './elementwise.js';
import { broadcastLayout } from './mul.js';

interface Binary {
  readonly a: TensorView;
  readonly b: TensorView;
  readonly output: TensorView;
  readonly x: string;
  readonly y: string;
  readonly bind: (value: string) => void;
}

/** Both operands in one layout, and how to record the result in it. */
function binary(ctx: LoweringContext, op: OperatorView): Binary {
  const a = ctx.tensor(op.inputs[0] ?? -1);
  const b = ctx.tensor(op.inputs[1] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const layout = broadcastLayout(ctx, a, b);
  return {
    a,
    b,
    output,
    x: ctx.value(a.index, layout),
    y: ctx.value(b.index, layout),
    bind: (value) => ctx.bind(output.index, layout, value),
  };
}

function requireSameType(ctx: LoweringContext, ...views: TensorView[]): void {
  const [first] = views;
  if (views.some((view) => view.tfliteType !== first?.tfliteType)) {
    throw ctx.error(`operands of different types (${views.map((v) => tensorTypeName(v.tfliteType))})`);
  }
}

export function lowerSub(ctx: LoweringContext, op: OperatorView): void {
  const activation = optionsOf(ctx, op, BuiltinOptionsType.SubOptions, ActivationOptions).fusedActivation;
  const { a, b, output, x, y, bind } = binary(ctx, op);
  requireSameType(ctx, a, b, output);
  if (isQuantizedType(output.type)) {
    bind(exactQuantizedAdd(ctx, x, y, a, b, output, activation, -1));
  } else if (output.type === TensorType.INT32) {
    if (activation !== 0) throw ctx.error('a fused activation on an int32 SUB is not supported');
    bind(ctx.op('Sub', [x, y]));
  } else {
    requireFloat(ctx, a, b, output);
    bind(floatActivation(ctx, ctx.op('Sub', [x, y]), activation));
  }
}

/**
 * An int32 divisor, which must be a constant without zeros (see the module comment) and
 * without -1, since INT32_MIN / -1 overflows and traps the same way.
 */
function requireSafeDivisor(ctx: LoweringContext, divisor: TensorView): void {
  const constant = ctx.constant(divisor.index);
  if (!constant) throw ctx.error('integer division by a computed tensor is not supported');
  const values = readInt32s(constant.raw);
  if (values.includes(0)) throw ctx.error(`'${divisor.name}' divides by zero`);
  if (values.includes(-1)) throw ctx.error(`'${divisor.name}' divides by -1, which can overflow`);
}

export function lowerDiv(ctx: LoweringContext, op: OperatorView): void {
  const activation = optionsOf(ctx, op, BuiltinOptionsType.DivOptions, ActivationOptions).fusedActivation;
  const { a, b, output, x, y, bind } = binary(ctx, op);
  requireSameType(ctx, a, b, output);
  if (output.type === TensorType.INT32) {
    if (activation !== 0) throw ctx.error('a fused activation on an int32 DIV is not supported');
    requireSafeDivisor(ctx, b);
    // Both truncate toward zero, as C++'s / does.
    bind(ctx.op('Div', [x, y]));
    return;
  }
  if (isQuantizedType(output.type)) throw ctx.error('quantized DIV is not supported');
  requireFloat(ctx, a, b, output);
  bind(floatActivation(ctx, ctx.op('Div', [x, y]), activation));
}

/**
 * FLOOR_DIV rounds the quotient down. ONNX's integer Div truncates, but its Mod (fmod 0) takes
 * the divisor's sign, so a - mod(a, b) is the multiple of b below a/b and divides exactly.
 */
export function lowerFloorDiv(ctx: LoweringContext, op: OperatorView): void {
  const { a, b, output, x, y, bind } = binary(ctx, op);
  requireSameType(ctx, a, b, output);
  if (output.type === TensorType.INT32) {
    requireSafeDivisor(ctx, b);
    const multiple = ctx.op('Sub', [x, ctx.op('Mod', [x, y], { fmod: attr.int(0) })]);
    bind(ctx.op('Div', [multiple, y]));
    return;
  }
  requireFloat(ctx, a, b, output);
  bind(ctx.op('Floor', [ctx.op('Div', [x, y])]));
}

export function lowerSqrt(ctx: LoweringContext, op: OperatorView): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  requireFloat(ctx, input, output);
  ctx.bind(output.index, 'nhwc', ctx.op('Sqrt', [ctx.value(input.index, 'nhwc')]));
}

/**
 * CAST converts stored values, ignoring quantization (as TFLite does): an int8 tensor held as
 * uint8 (context.ts) would need its offset undone, which no model we know of asks for.
 */
export function lowerCast(ctx: LoweringContext, op: OperatorView): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  for (const view of [input, output]) {
    if (view.type !== view.tfliteType) throw ctx.error(`CAST of the quantized int8 tensor '${view.name}'`);
  }
  const to = onnxType(output.type);
  if (to === undefined || onnxType(input.type) === undefined) {
    throw ctx.error(`CAST from ${tensorTypeName(input.type)} to ${tensorTypeName(output.type)}`);
  }
  // Float to integer truncates in both (static_cast); the rest is exact or rounds to nearest.
  // Element-wise: whichever layout the input already has serves.
  const layout = ctx.heldLayout(input.index);
  ctx.bind(output.index, layout, ctx.op('Cast', [ctx.value(input.index, layout)], { to: attr.int(to) }));
}
