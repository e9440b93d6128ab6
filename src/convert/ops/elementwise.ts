/**
 * ADD, RELU and RELU6.
 *
 * Quantized ADD reproduces LiteRT's integer arithmetic exactly (see exactQuantizedAdd); the
 * fused activation is a clamp on the quantized result.
 */

import {
  ActivationFunctionType,
  ActivationOptions,
  BuiltinOptionsType,
  TensorType,
} from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import { floatActivation, quantizedActivation, quantizedActivationRange } from './activation.js';
import { constantOperandLookup } from './constant-operand.js';
import {
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  quantOnnxType,
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
    sum = exactQuantizedAdd(ctx, x, y, a, b, output, activation);
  } else {
    requireFloat(ctx, a, b, output);
    sum = floatActivation(ctx, ctx.op('Add', [x, y]), activation);
  }
  ctx.bind(output.index, layout, sum);
}

/** Rounds half to even, as lrintf does in the default rounding mode and as QuantizeLinear does. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  if (value - floor !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

interface AddParams {
  readonly za: number;
  readonly zb: number;
  readonly zc: number;
  /** Smallest stored value: 0 for uint8, -128 for int8. */
  readonly qmin: number;
  /** The output clamp: the type's range narrowed by the fused activation. */
  readonly low: number;
  readonly high: number;
  /** 1 for ADD, -1 for SUB. */
  readonly bSign: 1 | -1;
}

/**
 * What LiteRT computes for a quantized ADD, for every pair of inputs. LiteRT runs it on
 * XNNPACK, whose arithmetic is (xnn_init_qu8_add_minmax params and the vadd kernels): both
 * scale ratios to the output become integers with 20 bits below the larger one's leading bit,
 * the products are summed with the zero points and half a unit folded into a bias, and an
 * arithmetic shift rounds the sum down. `shift` and the multipliers are returned for the ratios
 * that reproduce it.
 */
function xnnpackAdd(aScale: number, bScale: number, outScale: number, params: AddParams) {
  const aRatio = Math.fround(aScale / outScale);
  // XNNPACK subtracts by adding with b's ratio negated; the exponent comes from magnitudes.
  const bRatio = params.bSign * Math.fround(bScale / outScale);
  // The exponent of the larger ratio, read from its float32 bits as XNNPACK does.
  const exponent =
    ((new Uint32Array(Float32Array.of(Math.max(aRatio, Math.abs(bRatio))).buffer)[0] as number) >>> 23) - 127;
  const shift = 20 - exponent;
  const aMultiplier = roundHalfEven(aRatio * 2 ** shift);
  const bMultiplier = roundHalfEven(bRatio * 2 ** shift);
  const unit = 2 ** shift;
  const bias = unit / 2 - aMultiplier * params.za - bMultiplier * params.zb;
  const table = new Int16Array(65536);
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < 256; j++) {
      const sum = Math.floor(
        (bias + (i + params.qmin) * aMultiplier + (j + params.qmin) * bMultiplier) / unit,
      );
      table[i * 256 + j] = Math.min(params.high, Math.max(params.low, sum + params.zc));
    }
  }
  return { table, aRatio: aMultiplier / unit, bRatio: bMultiplier / unit };
}

/**
 * Whether DequantizeLinear (x - z) * ratio on both inputs, a float32 Sum and QuantizeLinear
 * with scale 1 (round half to even, saturate) give `expected` for all 65536 input pairs. Each of
 * those steps rounds once to float32, which Math.fround reproduces exactly.
 */
function floatAddMatches(aRatio: number, bRatio: number, params: AddParams, expected: Int16Array): boolean {
  const a = Float32Array.from({ length: 256 }, (_, i) => (i + params.qmin - params.za) * aRatio);
  const b = Float32Array.from({ length: 256 }, (_, j) => (j + params.qmin - params.zb) * bRatio);
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < 256; j++) {
      const sum = roundHalfEven(Math.fround((a[i] as number) + (b[j] as number))) + params.zc;
      if (Math.min(params.high, Math.max(params.low, sum)) !== expected[i * 256 + j]) return false;
    }
  }
  return true;
}

/** The float32 next to `value`, `steps` units in the last place away. */
function nudge(value: number, steps: number): number {
  const bits = new Uint32Array(Float32Array.of(value).buffer);
  bits[0] = (bits[0] as number) + steps;
  return new Float32Array(bits.buffer)[0] as number;
}

/**
 * Quantized ADD as LiteRT computes it. ORT's QLinearAdd rounds differently (in float on x86,
 * with 21-bit multipliers on ARM) and lands one step away for a few input pairs per layer
 * (0-4 of 65536 on MobileNetV2's adds); one such step before the softmax moved MobileNetV2's
 * output by 6 steps on a photo. So the add is computed in float32 with ratios chosen at
 * conversion time to give XNNPACK's result for every one of the 65536 input pairs, checked
 * here exhaustively; XNNPACK's own multipliers almost always do, else a few neighbouring
 * float32 ratios are tried, and where none does, the graph looks the result up in a table. Sum rather than Add keeps ORT from fusing the dequantize-add-quantize
 * pattern back into QLinearAdd. SUB is the same sum with b's ratio negated, as in XNNPACK (its
 * results checked against LiteRT on every input pair of MoveNet's SUBs: test/convert-int8.test.ts).
 */
export function exactQuantizedAdd(
  ctx: LoweringContext,
  x: string,
  y: string,
  a: TensorView,
  b: TensorView,
  output: TensorView,
  activation: number,
  bSign: 1 | -1 = 1,
): string {
  const [aq, bq, oq] = ctx.requirePerTensorEach([a, b, output]);
  const [low, high] = quantizedActivationRange(ctx, activation, output);
  const params: AddParams = {
    za: aq.zeroPoints[0] as number,
    zb: bq.zeroPoints[0] as number,
    zc: oq.zeroPoints[0] as number,
    qmin: output.type === TensorType.INT8 ? -128 : 0,
    low,
    high,
    bSign,
  };
  const reference = xnnpackAdd(
    aq.scales[0] as number,
    bq.scales[0] as number,
    oq.scales[0] as number,
    params,
  );
  const unary = constantOperandLookup(ctx, reference.table, { a, b, x, y }, output);
  if (unary) return unary;
  for (const [da, db] of [[0, 0], ...NUDGES]) {
    const aRatio = nudge(reference.aRatio, da as number);
    const bRatio = nudge(reference.bRatio, db as number);
    if (!floatAddMatches(aRatio, bRatio, params, reference.table)) continue;
    // a - b*r rounds as a + b*(-r) does; Sub keeps the scales positive, as ONNX expects them.
    const sum = ctx.op(bSign === 1 ? 'Sum' : 'Sub', [
      ctx.op('DequantizeLinear', [x, ctx.float32Scalar(aRatio), ctx.quantScalar(params.za, a.type)]),
      ctx.op('DequantizeLinear', [
        y,
        ctx.float32Scalar(Math.abs(bRatio)),
        ctx.quantScalar(params.zb, b.type),
      ]),
    ]);
    const result = ctx.op('QuantizeLinear', [
      sum,
      ctx.float32Scalar(1),
      ctx.quantScalar(params.zc, output.type),
    ]);
    return quantizedActivation(ctx, result, activation, output);
  }
  // No float32 ratio reproduces XNNPACK on every pair (one of MoveNet's 19 ADDs): look the
  // answer up in XNNPACK's own 65536 results instead, exact by construction.
  return lookupPairTable(ctx, x, y, Uint8Array.from(reference.table), output);
}

/**
 * The answer of a quantized binary op for every pair of stored bytes, looked up: `table` holds
 * 256 * a + b's result (held values, typed like `output`). Broadcasting works as in any
 * element-wise op, since the index is computed element-wise.
 */
export function lookupPairTable(
  ctx: LoweringContext,
  x: string,
  y: string,
  table: Uint8Array,
  output: TensorView,
): string {
  const values = ctx.initializer('pair_table', quantOnnxType(output.type), [65536], table);
  const toInt = (value: string) => ctx.op('Cast', [value], { to: attr.int(OnnxDataType.INT32) });
  const index = ctx.op('Add', [ctx.op('Mul', [toInt(x), ctx.int32Scalar(256)]), toInt(y)]);
  return ctx.op('Gather', [values, index], { axis: attr.int(0) });
}

/** Ratio adjustments tried in turn, in units in the last place: the nearest first. */
const NUDGES: readonly (readonly [number, number])[] = [-1, 0, 1]
  .flatMap((da) => [-1, 0, 1].map((db) => [da, db] as const))
  .concat([-2, 2].flatMap((da) => [-2, 0, 2].map((db) => [da, db] as const)))
  .filter(([da, db]) => da !== 0 || db !== 0);

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
