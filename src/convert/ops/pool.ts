/**
 * AVERAGE_POOL_2D and MAX_POOL_2D.
 *
 * TFLite averages over the pixels inside the image only (SAME padding does not count), which
 * is ONNX's count_include_pad = 0. Max pooling compares integers, so uint8 MaxPool is exact.
 *
 * Quantized average pooling rounds halves up, as TFLite and LiteRT do ((sum + count / 2) /
 * count), where ORT's QLinearAveragePool rounds them to even. Halves are common with an even
 * window (MobileNet V1 0.25 ends in a 4x4 pool: a sum that is 8 mod 16 is one), and one step
 * on the pooled features moved its softmax output by up to 8 steps. So QLinearAveragePool is
 * only used where no half can occur, and other windows are computed in float (see
 * exactQuantizedAverage).
 */

import { BuiltinOptionsType, Pool2DOptions, TensorType } from '../../tflite/schema.js';
import { attr, type OnnxAttributeValue, OnnxDataType } from '../onnx-writer.js';
import { floatActivation, quantizedActivation } from './activation.js';
import {
  isQuantizedType,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  quantOnnxType,
  requireFloat,
  requireRank,
  type TensorView,
} from './context.js';
import { convWindow } from './conv.js';

/**
 * TFLite's quantized average (the same scale and zero point in and out, as it requires): the
 * mean of the stored integers rounded half away from zero. In float32 the mean of up to 2048
 * integers of at most 255 is within 1e-4 of the exact fraction k / count, whose distance to a
 * half is either 0 or at least 1 / (2 count); adding 1 / (4 count) before Floor therefore
 * rounds every exact half up and nothing else.
 */
function exactQuantizedAverage(
  ctx: LoweringContext,
  input: TensorView,
  attributes: Record<string, OnnxAttributeValue>,
  kernel: readonly [number, number],
): string {
  const count = kernel[0] * kernel[1];
  if (count > 2048)
    throw ctx.error(`a ${kernel[0]}x${kernel[1]} quantized average pool is too large to round exactly`);
  const real = ctx.op('Cast', [ctx.value(input.index, 'nchw')], { to: attr.int(OnnxDataType.FLOAT) });
  const mean = ctx.op('AveragePool', [real], { ...attributes, count_include_pad: attr.int(0) });
  const half = ctx.float32Scalar(0.5 + 1 / (4 * count));
  let rounded: string;
  if (input.type === TensorType.UINT8) {
    rounded = ctx.op('Floor', [ctx.op('Add', [mean, half])]);
  } else {
    const magnitude = ctx.op('Floor', [ctx.op('Add', [ctx.op('Abs', [mean]), half])]);
    rounded = ctx.op('Mul', [magnitude, ctx.op('Sign', [mean])]);
  }
  return ctx.op('Cast', [rounded], { to: attr.int(quantOnnxType(input.type)) });
}

function lowerPool(ctx: LoweringContext, op: OperatorView, kind: 'average' | 'max'): void {
  const options = optionsOf(ctx, op, BuiltinOptionsType.Pool2DOptions, Pool2DOptions);
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  requireRank(ctx, input, 4);
  requireRank(ctx, output, 4);
  if (input.type !== output.type) throw ctx.error('input and output types differ');
  const window = convWindow(
    ctx,
    options.padding,
    input.shape,
    output.shape,
    [options.filterHeight, options.filterWidth],
    [options.strideH, options.strideW],
    [1, 1],
  );
  const attributes = {
    kernel_shape: attr.ints(window.kernel),
    strides: attr.ints(window.strides),
    pads: attr.ints(window.pads),
  };
  const x = () => ctx.value(input.index, 'nchw');
  if (!isQuantizedType(input.type)) {
    requireFloat(ctx, input);
    // A window over the whole image is a mean over height and width. ORT's AveragePool sums
    // such a window in one float32 running sum, ten times further from the exact mean than
    // LiteRT and ReduceMean are (2.3e-5 vs 2.2e-6 over 64x64 values of the selfie model, whose
    // output then left LiteRT's by more than the verification allows).
    const global = output.shape[1] === 1 && output.shape[2] === 1 && window.pads.every((pad) => pad === 0);
    const y =
      kind === 'max'
        ? ctx.op('MaxPool', [x()], attributes)
        : global
          ? ctx.op('ReduceMean', [x()], { axes: attr.ints([2, 3]), keepdims: attr.int(1) })
          : ctx.op('AveragePool', [x()], { ...attributes, count_include_pad: attr.int(0) });
    ctx.bind(output.index, 'nchw', floatActivation(ctx, y, options.fusedActivation));
    return;
  }
  // TFLite requires this of both quantized pools: they work on the stored integers.
  const inQuant = ctx.requirePerTensor(input);
  const outQuant = ctx.requirePerTensor(output);
  if (inQuant.scales[0] !== outQuant.scales[0] || inQuant.zeroPoints[0] !== outQuant.zeroPoints[0]) {
    throw ctx.error('a quantized pool with different input and output quantization');
  }
  if (kind === 'max') {
    const y = ctx.op('MaxPool', [x()], attributes);
    ctx.bind(output.index, 'nchw', quantizedActivation(ctx, y, options.fusedActivation, output));
    return;
  }
  // Every window full and of odd size: no mean can end in a half, so any correct rounding is
  // TFLite's, and ORT's own kernel (MobileNet's final 7x7 pool) is used.
  const oddWindows = (window.kernel[0] * window.kernel[1]) % 2 === 1 && window.pads.every((pad) => pad === 0);
  const y = oddWindows
    ? ctx.op(
        'QLinearAveragePool',
        [ctx.value(input.index, 'nchw'), ...ctx.quantInputs(input), ...ctx.quantInputs(output)],
        { ...attributes, count_include_pad: attr.int(0) },
        'com.microsoft',
      )
    : exactQuantizedAverage(ctx, input, attributes, window.kernel);
  ctx.bind(output.index, 'nchw', quantizedActivation(ctx, y, options.fusedActivation, output));
}

export function lowerAveragePool2d(ctx: LoweringContext, op: OperatorView): void {
  lowerPool(ctx, op, 'average');
}

export function lowerMaxPool2d(ctx: LoweringContext, op: OperatorView): void {
  lowerPool(ctx, op, 'max');
}
