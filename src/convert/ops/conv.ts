/**
 * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.
 *
 * Quantized, all three become QLinearConv: it takes TFLite's operands as they are (uint8 or
 * int8 activations with one scale and zero point, weights per tensor or per output channel,
 * the int32 bias at scale input*weight) and accumulates exactly, in int32. The requantization
 * is LiteRT's too: LiteRT runs these ops on XNNPACK, which multiplies the sum by the float32
 * input*weight/output scale and rounds half to even, as ORT does, so the outputs are the same
 * bytes. (TFLite's reference kernels use a 31-bit fixed-point multiplier instead and can land
 * one step away.)
 * FULLY_CONNECTED is a 1x1 convolution over a [N, I, 1, 1] view of its input, which keeps the
 * bias inside the int32 accumulator (QLinearMatMul has no bias input).
 *
 * Float: Conv and Gemm, with weights folded from DEQUANTIZE (float16) at conversion time.
 */

import {
  BuiltinOptionsType,
  Conv2DOptions,
  DepthwiseConv2DOptions,
  FullyConnectedOptions,
  Padding,
  TensorType,
  tensorTypeName,
} from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import { floatActivation, quantizedActivation } from './activation.js';
import {
  elementCount,
  isQuantizedType,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  permuteRaw,
  quantOnnxType,
  requireRank,
  type TensorView,
} from './context.js';

interface Window {
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  /** ONNX order: [top, left, bottom, right]. */
  readonly pads: [number, number, number, number];
}

/**
 * Padding as TFLite computes it (ComputePaddingHeightWidth): SAME puts the odd pixel at the end,
 * like ONNX's SAME_UPPER. Checks the output size TFLite recorded against ours.
 */
export function convWindow(
  ctx: LoweringContext,
  padding: number,
  input: readonly number[],
  output: readonly number[],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): Window {
  if (padding !== Padding.SAME && padding !== Padding.VALID)
    throw ctx.error(`padding mode ${padding} is unknown`);
  if (strides.some((s) => s < 1) || dilations.some((d) => d < 1)) {
    throw ctx.error(`strides [${strides}] or dilations [${dilations}] are not positive`);
  }
  const before: number[] = [];
  const after: number[] = [];
  for (const axis of [0, 1]) {
    const size = input[axis + 1] as number;
    const effective = ((kernel[axis] as number) - 1) * (dilations[axis] as number) + 1;
    const stride = strides[axis] as number;
    const expected =
      padding === Padding.SAME ? Math.ceil(size / stride) : Math.floor((size - effective) / stride) + 1;
    if (expected !== output[axis + 1]) {
      throw ctx.error(
        `output size ${output[axis + 1]} does not match the window (input ${size}, kernel ${kernel[axis]}, stride ${stride})`,
      );
    }
    const total = padding === Padding.SAME ? Math.max((expected - 1) * stride + effective - size, 0) : 0;
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
  }
  return {
    kernel,
    strides,
    dilations,
    pads: [before[0] as number, before[1] as number, after[0] as number, after[1] as number],
  };
}

function windowAttributes(window: Window, group: number) {
  return {
    kernel_shape: attr.ints(window.kernel),
    strides: attr.ints(window.strides),
    dilations: attr.ints(window.dilations),
    pads: attr.ints(window.pads),
    group: attr.int(group),
  };
}

/**
 * Weight scale and zero point inputs of QLinearConv: scalars for per-tensor weights, 1-D over
 * the output channels for per-channel ones (TFLite's quantized_dimension must be that axis).
 */
function weightQuantInputs(
  ctx: LoweringContext,
  weights: TensorView,
  outputChannels: number,
  channelAxis: number,
): [scale: string, zeroPoint: string] {
  const quant = weights.quant;
  if (!quant) throw ctx.error(`weights '${weights.name}' have no scale and zero point`);
  const shift = weights.type === TensorType.UINT8 ? 128 : 0;
  if (quant.scales.length === 1) {
    // Each node gets its own weight zero point: ORT may rewrite it together with the weights
    // (see weightType), and a rewrite of a shared one clashes with itself.
    return [
      ctx.float32Scalar(quant.scales[0] as number),
      ctx.initializer(
        'w_zero_point',
        OnnxDataType.INT8,
        [],
        Uint8Array.of(((quant.zeroPoints[0] as number) - shift) & 0xff),
      ),
    ];
  }
  if (quant.scales.length !== outputChannels || quant.dimension !== channelAxis) {
    throw ctx.error(
      `weights '${weights.name}' have ${quant.scales.length} scales on axis ${quant.dimension}; expected ${outputChannels} on axis ${channelAxis}`,
    );
  }
  const zeroPoints =
    quant.zeroPoints.length === 1 ? quant.scales.map(() => quant.zeroPoints[0] as number) : quant.zeroPoints;
  return [
    ctx.initializer(
      'w_scale',
      OnnxDataType.FLOAT,
      [outputChannels],
      new Uint8Array(Float32Array.from(quant.scales).buffer),
    ),
    ctx.initializer(
      'w_zero_point',
      quantOnnxType(TensorType.INT8),
      [outputChannels],
      Uint8Array.from(zeroPoints, (z) => (z - shift) & 0xff),
    ),
  ];
}

/**
 * Weights go to ORT as int8 whatever TFLite stored. uint8 weights are re-centred, w - 128 with
 * zero point z - 128: (w - z) is unchanged, so this is exact, and it lets ORT use its u8 x s8
 * kernels, 1.5x faster than u8 x u8 on MobileNetV2 (5.6 vs 8.4 ms here). On x86 CPUs without
 * VNNI those kernels can saturate 16-bit sums; OrtCompiledModel sets session.x64quantprecision,
 * with which ORT turns such weights back to uint8 on those CPUs only.
 */
function recentre(weights: Uint8Array): Uint8Array {
  const out = new Uint8Array(weights.length);
  for (let i = 0; i < weights.length; i++) out[i] = (weights[i] as number) ^ 0x80;
  return out;
}

function weightType(type: number): number {
  return type === TensorType.UINT8 ? TensorType.INT8 : type;
}

interface ConvOperands {
  readonly input: TensorView;
  readonly weights: TensorView;
  readonly output: TensorView;
  /** ONNX-ordered weight bytes: [O, I/group, kh, kw]. */
  readonly weightRaw: Uint8Array;
  readonly weightDims: readonly number[];
  readonly bias: number;
  readonly group: number;
  /** TFLite axis of the output channels in the weight tensor (per-channel scales run along it). */
  readonly channelAxis: number;
}

/** Emits QLinearConv or Conv plus the activation; `x` is the input value in NCHW. */
function emitConv(
  ctx: LoweringContext,
  x: string,
  operands: ConvOperands,
  attributes: Record<string, ReturnType<typeof attr.int>>,
  activation: number,
): string {
  const { input, weights, output, bias } = operands;
  const outputChannels = operands.weightDims[0] as number;
  if (isQuantizedType(input.type)) {
    if (weights.type !== input.type) {
      throw ctx.error(
        `quantized ${tensorTypeName(input.type)} input with ${tensorTypeName(weights.type)} weights`,
      );
    }
    if (output.type !== input.type) {
      throw ctx.error(`${tensorTypeName(input.type)} input with ${tensorTypeName(output.type)} output`);
    }
    const [wScale, wZero] = weightQuantInputs(ctx, weights, outputChannels, operands.channelAxis);
    const w = ctx.initializer(
      'w',
      quantOnnxType(weightType(weights.type)),
      operands.weightDims,
      weights.type === TensorType.UINT8 ? recentre(operands.weightRaw) : operands.weightRaw,
    );
    const inputs = [x, ...ctx.quantInputs(input), w, wScale, wZero, ...ctx.quantInputs(output)];
    if (bias >= 0) {
      const biasView = ctx.tensor(bias);
      if (biasView.type !== TensorType.INT32 || elementCount(biasView.shape) !== outputChannels) {
        throw ctx.error(`bias '${biasView.name}' must be ${outputChannels} int32 values`);
      }
      inputs.push(
        ctx.initializer('bias', OnnxDataType.INT32, [outputChannels], ctx.requireConstant(bias, 'the bias')),
      );
    }
    const y = ctx.op('QLinearConv', inputs, attributes);
    return quantizedActivation(ctx, y, activation, output);
  }
  if (
    input.type !== TensorType.FLOAT32 ||
    weights.type !== TensorType.FLOAT32 ||
    output.type !== TensorType.FLOAT32
  ) {
    throw ctx.error(
      `${tensorTypeName(input.type)} input with ${tensorTypeName(weights.type)} weights (hybrid quantization) is not supported`,
    );
  }
  const w = ctx.initializer('w', OnnxDataType.FLOAT, operands.weightDims, operands.weightRaw);
  const inputs = [x, w];
  if (bias >= 0) {
    const biasView = ctx.tensor(bias);
    if (biasView.type !== TensorType.FLOAT32 || elementCount(biasView.shape) !== outputChannels) {
      throw ctx.error(`bias '${biasView.name}' must be ${outputChannels} float32 values`);
    }
    inputs.push(
      ctx.initializer('bias', OnnxDataType.FLOAT, [outputChannels], ctx.requireConstant(bias, 'the bias')),
    );
  }
  return floatActivation(ctx, ctx.op('Conv', inputs, attributes), activation);
}

function elementSize(type: number): number {
  return type === TensorType.FLOAT32 ? 4 : 1;
}

export function lowerConv2d(ctx: LoweringContext, op: OperatorView): void {
  const options = optionsOf(ctx, op, BuiltinOptionsType.Conv2DOptions, Conv2DOptions);
  const [inputIndex = -1, weightIndex = -1, bias = -1] = op.inputs;
  const input = ctx.tensor(inputIndex);
  const weights = ctx.tensor(weightIndex);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  for (const view of [input, weights, output]) requireRank(ctx, view, 4);
  const [outChannels, kh, kw, inChannels] = weights.shape as [number, number, number, number];
  const channels = input.shape[3] as number;
  // Grouped convolution: TFLite infers the group count from the weights' input depth.
  if (channels % inChannels !== 0 || outChannels % (channels / inChannels) !== 0) {
    throw ctx.error(`weights [${weights.shape}] do not fit input channels ${channels}`);
  }
  const window = convWindow(
    ctx,
    options.padding,
    input.shape,
    output.shape,
    [kh, kw],
    [options.strideH, options.strideW],
    [options.dilationH, options.dilationW],
  );
  const group = channels / inChannels;
  const raw = ctx.requireConstant(weightIndex, 'the weights');
  const y = emitConv(
    ctx,
    ctx.value(inputIndex, 'nchw'),
    {
      input,
      weights,
      output,
      weightRaw: permuteRaw(raw, elementSize(weights.type), weights.shape, [0, 3, 1, 2]),
      weightDims: [outChannels, inChannels, kh, kw],
      bias,
      group,
      channelAxis: 0,
    },
    windowAttributes(window, group),
    options.fusedActivation,
  );
  ctx.bind(output.index, 'nchw', y);
}

export function lowerDepthwiseConv2d(ctx: LoweringContext, op: OperatorView): void {
  const options = optionsOf(ctx, op, BuiltinOptionsType.DepthwiseConv2DOptions, DepthwiseConv2DOptions);
  const [inputIndex = -1, weightIndex = -1, bias = -1] = op.inputs;
  const input = ctx.tensor(inputIndex);
  const weights = ctx.tensor(weightIndex);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  for (const view of [input, weights, output]) requireRank(ctx, view, 4);
  const [one, kh, kw, outChannels] = weights.shape as [number, number, number, number];
  const channels = input.shape[3] as number;
  // The multiplier comes from the shapes: newer TFLite ignores the redundant option.
  if (one !== 1 || outChannels % channels !== 0 || output.shape[3] !== outChannels) {
    throw ctx.error(`depthwise weights [${weights.shape}] do not fit input channels ${channels}`);
  }
  const window = convWindow(
    ctx,
    options.padding,
    input.shape,
    output.shape,
    [kh, kw],
    [options.strideH, options.strideW],
    [options.dilationH, options.dilationW],
  );
  // TFLite output channel o reads input channel floor(o / multiplier); so does an ONNX
  // convolution with one group per input channel.
  const raw = ctx.requireConstant(weightIndex, 'the weights');
  const y = emitConv(
    ctx,
    ctx.value(inputIndex, 'nchw'),
    {
      input,
      weights,
      output,
      weightRaw: permuteRaw(raw, elementSize(weights.type), weights.shape, [3, 0, 1, 2]),
      weightDims: [outChannels, 1, kh, kw],
      bias,
      group: channels,
      channelAxis: 3,
    },
    windowAttributes(window, channels),
    options.fusedActivation,
  );
  ctx.bind(output.index, 'nchw', y);
}

export function lowerFullyConnected(ctx: LoweringContext, op: OperatorView): void {
  const options = optionsOf(ctx, op, BuiltinOptionsType.FullyConnectedOptions, FullyConnectedOptions);
  if (options.weightsFormat !== 0) throw ctx.error('shuffled weights are not supported');
  const [inputIndex = -1, weightIndex = -1, bias = -1] = op.inputs;
  const input = ctx.tensor(inputIndex);
  const weights = ctx.tensor(weightIndex);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  requireRank(ctx, weights, 2);
  const [outChannels, depth] = weights.shape as [number, number];
  const total = elementCount(input.shape);
  if (total % depth !== 0 || elementCount(output.shape) !== (total / depth) * outChannels) {
    throw ctx.error(
      `input [${input.shape}] and output [${output.shape}] do not fit weights [${weights.shape}]`,
    );
  }
  // Rows of `depth` values; in a batched graph each item's rows follow the item before's.
  const rows = ctx.batched ? -1 : total / depth;
  const x = ctx.flatValue(inputIndex);
  const raw = ctx.requireConstant(weightIndex, 'the weights');
  if (isQuantizedType(input.type)) {
    const x4 = ctx.op('Reshape', [x, ctx.int64s([rows, depth, 1, 1])]);
    const y = emitConv(
      ctx,
      x4,
      {
        input,
        weights,
        output,
        weightRaw: raw,
        weightDims: [outChannels, depth, 1, 1],
        bias,
        group: 1,
        channelAxis: 0,
      },
      { kernel_shape: attr.ints([1, 1]) },
      options.fusedActivation,
    );
    ctx.bind(output.index, 'nhwc', ctx.op('Reshape', [y, ctx.shapeOperand(output.shape)]));
    return;
  }
  if (input.type !== TensorType.FLOAT32 || weights.type !== TensorType.FLOAT32) {
    throw ctx.error(
      `${tensorTypeName(input.type)} input with ${tensorTypeName(weights.type)} weights (hybrid quantization) is not supported`,
    );
  }
  const w = ctx.initializer('w', OnnxDataType.FLOAT, [outChannels, depth], raw);
  const inputs = [ctx.op('Reshape', [x, ctx.int64s([rows, depth])]), w];
  if (bias >= 0) {
    inputs.push(
      ctx.initializer('bias', OnnxDataType.FLOAT, [outChannels], ctx.requireConstant(bias, 'the bias')),
    );
  }
  const y = floatActivation(ctx, ctx.op('Gemm', inputs, { transB: attr.int(1) }), options.fusedActivation);
  ctx.bind(output.index, 'nhwc', ctx.op('Reshape', [y, ctx.shapeOperand(output.shape)]));
}
