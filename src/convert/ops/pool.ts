/**
 * AVERAGE_POOL_2D and MAX_POOL_2D.
 *
 * TFLite averages over the pixels inside the image only (SAME padding does not count), which
 * is ONNX's count_include_pad = 0. Quantized averages use ORT's QLinearAveragePool
 * (com.microsoft): it sums the integers and divides once, like TFLite; the two round an exact
 * half differently (TFLite up, ORT to even), which an odd window such as MobileNet's 7x7 global
 * pool can never produce. Max pooling compares integers, so uint8 MaxPool is exact.
 */
import { attr } from '../onnx-writer.js';
import { BuiltinOptionsType, Pool2DOptions } from '../tflite-schema.js';
import { floatActivation, quantizedActivation } from './activation.js';
import {
  isQuantizedType,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  requireFloat,
  requireRank,
} from './context.js';
import { convWindow } from './conv.js';

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
  const x = ctx.value(input.index, 'nchw');
  let y: string;
  if (isQuantizedType(input.type)) {
    if (kind === 'average') {
      y = ctx.op(
        'QLinearAveragePool',
        [x, ...ctx.quantInputs(input), ...ctx.quantInputs(output)],
        { ...attributes, count_include_pad: attr.int(0) },
        'com.microsoft',
      );
    } else {
      const inQuant = ctx.requirePerTensor(input);
      const outQuant = ctx.requirePerTensor(output);
      // TFLite's quantized max pool requires this too: the integers pass through unchanged.
      if (inQuant.scales[0] !== outQuant.scales[0] || inQuant.zeroPoints[0] !== outQuant.zeroPoints[0]) {
        throw ctx.error('quantized MAX_POOL_2D with different input and output quantization');
      }
      y = ctx.op('MaxPool', [x], attributes);
    }
    y = quantizedActivation(ctx, y, options.fusedActivation, output);
  } else {
    requireFloat(ctx, input);
    y =
      kind === 'average'
        ? ctx.op('AveragePool', [x], { ...attributes, count_include_pad: attr.int(0) })
        : ctx.op('MaxPool', [x], attributes);
    y = floatActivation(ctx, y, options.fusedActivation);
  }
  ctx.bind(output.index, 'nchw', y);
}

export function lowerAveragePool2d(ctx: LoweringContext, op: OperatorView): void {
  lowerPool(ctx, op, 'average');
}

export function lowerMaxPool2d(ctx: LoweringContext, op: OperatorView): void {
  lowerPool(ctx, op, 'max');
}
