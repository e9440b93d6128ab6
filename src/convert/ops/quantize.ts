/**
 * DEQUANTIZE, QUANTIZE and SOFTMAX.
 *
 * DEQUANTIZE of a constant (BlazeFace stores its weights as float16 and dequantizes them at
 * load time) is done here, once, with TFLite's own arithmetic, so the ONNX graph holds the
 * float32 weights TFLite computes with.
 *
 * Quantized SOFTMAX is dequantize, float softmax, quantize to the output's parameters (1/256
 * and 0 for uint8). TFLite computes it in fixed point with a table of exponentials; both land
 * on the same step except where the exact probability is within rounding of a step boundary.
 */

import { BuiltinOptionsType, SoftmaxOptions, TensorType, tensorTypeName } from '../../tflite/schema.js';
import { attr } from '../onnx-writer.js';
import {
  elementCount,
  isQuantizedType,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  rawFloat32,
  requireFloat,
} from './context.js';
import { quantizeFloat, requantizeTable } from './requantize.js';
import { lookupTable } from './unary.js';

/** IEEE half to float, exactly (every float16 value is a float32 value). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function foldDequantize(ctx: LoweringContext, inputIndex: number, outputIndex: number): boolean {
  const constant = ctx.constant(inputIndex);
  if (!constant) return false;
  const input = ctx.tensor(inputIndex);
  const count = elementCount(input.shape);
  const out = new Float32Array(count);
  const view = new DataView(constant.raw.buffer, constant.raw.byteOffset, constant.raw.byteLength);
  if (constant.type === TensorType.FLOAT16) {
    for (let i = 0; i < count; i++) out[i] = float16ToFloat32(view.getUint16(2 * i, true));
  } else if (isQuantizedType(constant.type)) {
    const quant = input.quant;
    if (!quant) throw ctx.error(`constant '${input.name}' has no scale and zero point`);
    // Per-channel: index i belongs to channel (i / inner) % channels along `dimension`.
    const channels = quant.scales.length;
    const inner = channels === 1 ? 1 : elementCount(input.shape.slice(quant.dimension + 1));
    for (let i = 0; i < count; i++) {
      const channel = channels === 1 ? 0 : Math.floor(i / inner) % channels;
      const q = constant.type === TensorType.INT8 ? view.getInt8(i) : view.getUint8(i);
      // TFLite: static_cast<float>(scale * (q - zero_point)), the scale widened to double.
      out[i] = (quant.scales[channel] as number) * (q - (quant.zeroPoints[channel] as number));
    }
  } else {
    throw ctx.error(`DEQUANTIZE of ${tensorTypeName(constant.type)} is not supported`);
  }
  ctx.fold(outputIndex, TensorType.FLOAT32, rawFloat32(out));
  return true;
}

export function lowerDequantize(ctx: LoweringContext, op: OperatorView): void {
  const inputIndex = op.inputs[0] ?? -1;
  const output = ctx.tensor(op.outputs[0] ?? -1);
  requireFloat(ctx, output);
  if (foldDequantize(ctx, inputIndex, output.index)) return;
  const input = ctx.tensor(inputIndex);
  if (!isQuantizedType(input.type)) {
    throw ctx.error(`DEQUANTIZE of a computed ${tensorTypeName(input.type)} tensor is not supported`);
  }
  const x = ctx.value(inputIndex, 'nhwc');
  ctx.bind(output.index, 'nhwc', ctx.op('DequantizeLinear', [x, ...ctx.quantInputs(input)]));
}

/** QUANTIZE from float, or between two quantizations, as XNNPACK computes it (requantize.ts). */
export function lowerQuantize(ctx: LoweringContext, op: OperatorView): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  if (!isQuantizedType(output.type)) throw ctx.error(`QUANTIZE to ${tensorTypeName(output.type)}`);
  const x = ctx.value(input.index, 'nhwc');
  if (!isQuantizedType(input.type)) {
    requireFloat(ctx, input);
    ctx.bind(output.index, 'nhwc', quantizeFloat(ctx, x, output));
    return;
  }
  const table = requantizeTable(input, output);
  const y = table
    ? lookupTable(ctx, x, table, output)
    : ctx.op('QuantizeLinear', [
        ctx.op('DequantizeLinear', [x, ...ctx.quantInputs(input)]),
        ...ctx.quantInputs(output),
      ]);
  ctx.bind(output.index, 'nhwc', y);
}

export function lowerSoftmax(ctx: LoweringContext, op: OperatorView): void {
  const { beta } = optionsOf(ctx, op, BuiltinOptionsType.SoftmaxOptions, SoftmaxOptions);
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const quantized = isQuantizedType(input.type);
  let x = ctx.value(input.index, 'nhwc');
  if (quantized) {
    if (!isQuantizedType(output.type)) throw ctx.error('quantized SOFTMAX with a float output');
    x = ctx.op('DequantizeLinear', [x, ...ctx.quantInputs(input)]);
  } else {
    requireFloat(ctx, input, output);
  }
  if (beta !== 1) x = ctx.op('Mul', [x, ctx.float32Scalar(beta)]);
  let y = ctx.op('Softmax', [x], { axis: attr.int(-1) });
  if (quantized) y = ctx.op('QuantizeLinear', [y, ...ctx.quantInputs(output)]);
  ctx.bind(output.index, 'nhwc', y);
}
