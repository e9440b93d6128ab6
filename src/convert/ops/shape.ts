/**
 * Ops that move values without arithmetic: RESHAPE, CONCATENATION and PAD (RESIZE_BILINEAR is
 * in resize.ts).
 */

import {
  ActivationFunctionType,
  BuiltinOptionsType,
  ConcatenationOptions,
  TensorType,
  tensorTypeName,
} from '../../tflite/schema.js';
import { attr } from '../onnx-writer.js';
import { floatActivation, quantizedActivation, roundHalfAway } from './activation.js';
import {
  elementCount,
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  readInt32s,
  requireFloat,
  requireRank,
  type TensorView,
  TO_NCHW,
} from './context.js';
import { lookupTable } from './unary.js';

/**
 * RESHAPE takes its new shape from an input tensor or from its options; after TFLite's
 * allocation both equal the output tensor's shape, which is static in the file, so that is the
 * one used.
 */
export function lowerReshape(ctx: LoweringContext, op: OperatorView): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  if (output.shape.some((d) => d < 0) || elementCount(output.shape) !== elementCount(input.shape)) {
    throw ctx.error(`cannot reshape [${input.shape}] to [${output.shape}]`);
  }
  if (input.type !== output.type) throw ctx.error('RESHAPE changes the element type');
  ctx.bind(
    output.index,
    'nhwc',
    ctx.op('Reshape', [ctx.flatValue(input.index), ctx.shapeOperand(output.shape)]),
  );
}

export function lowerConcatenation(ctx: LoweringContext, op: OperatorView): void {
  const options = optionsOf(ctx, op, BuiltinOptionsType.ConcatenationOptions, ConcatenationOptions);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const rank = output.shape.length;
  const axis = options.axis < 0 ? options.axis + rank : options.axis;
  if (axis < 0 || axis >= rank) throw ctx.error(`axis ${options.axis} is out of range for rank ${rank}`);
  ctx.requireNotBatchAxis([axis], 'CONCATENATION');
  const layout: Layout = rank === 4 ? 'nchw' : 'nhwc';
  const onnxAxis = layout === 'nchw' ? TO_NCHW.indexOf(axis as 0 | 1 | 2 | 3) : axis;
  const quantized = isQuantizedType(output.type);
  const inputs = op.inputs.map((index) => {
    const input = ctx.tensor(index);
    requireRank(ctx, input, rank);
    if (input.type !== output.type) throw ctx.error('CONCATENATION inputs of different types');
    const x = ctx.value(index, layout);
    if (!quantized) return x;
    const inQuant = ctx.requirePerTensor(input);
    const outQuant = ctx.requirePerTensor(output);
    if (inQuant.scales[0] === outQuant.scales[0] && inQuant.zeroPoints[0] === outQuant.zeroPoints[0])
      return x;
    return lookupTable(ctx, x, concatRescaleTable(ctx, input, output), output);
  });
  const joined = ctx.op('Concat', inputs, { axis: attr.int(onnxAxis) });
  // int32: indices (MoveNet builds its gather indices so); an activation would be meaningless.
  if (output.type === TensorType.INT32 && options.fusedActivation === ActivationFunctionType.NONE) {
    ctx.bind(output.index, layout, joined);
    return;
  }
  if (!quantized) requireFloat(ctx, output);
  const y = quantized
    ? quantizedActivation(ctx, joined, options.fusedActivation, output)
    : floatActivation(ctx, joined, options.fusedActivation);
  ctx.bind(output.index, layout, y);
}

/**
 * TFLite's uint8 CONCATENATION requantizes each input whose parameters differ from the
 * output's (ConcatenationWithScaling; LiteRT's XNNPACK takes only equal ones, so this is
 * TFLite's own kernel): in float32, x x (input scale x (1 / output scale)) - input zero x that
 * ratio, rounded half away from zero, plus the output zero point, saturated. A function of one
 * byte, looked up in a table of exactly that. int8 inputs must share the output's parameters
 * (TFLite refuses others).
 */
function concatRescaleTable(ctx: LoweringContext, input: TensorView, output: TensorView): Uint8Array {
  if (input.tfliteType !== TensorType.UINT8) {
    throw ctx.error(`${tensorTypeName(input.tfliteType)} CONCATENATION inputs quantized unlike the output`);
  }
  const f = Math.fround;
  const inQuant = ctx.requirePerTensor(input);
  const outQuant = ctx.requirePerTensor(output);
  const scale = f((inQuant.scales[0] as number) * f(1 / (outQuant.scales[0] as number)));
  const bias = f(-(inQuant.zeroPoints[0] as number) * scale);
  const outZero = outQuant.zeroPoints[0] as number;
  return Uint8Array.from({ length: 256 }, (_, x) =>
    Math.min(255, Math.max(0, roundHalfAway(f(f(x * scale) + bias)) + outZero)),
  );
}

/** PAD with zeros; quantized tensors are padded with the zero point, the quantized zero. */
export function lowerPad(ctx: LoweringContext, op: OperatorView): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const paddingIndex = op.inputs[1] ?? -1;
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const rank = input.shape.length;
  const paddingView = ctx.tensor(paddingIndex);
  if (paddingView.type !== TensorType.INT32) {
    throw ctx.error(`paddings of type ${tensorTypeName(paddingView.type)} are not supported`);
  }
  const paddings = readInt32s(ctx.requireConstant(paddingIndex, 'the paddings'));
  if (paddings.length !== 2 * rank || paddings.some((p) => p < 0)) {
    throw ctx.error(`paddings [${paddings}] do not fit rank ${rank}`);
  }
  for (let d = 0; d < rank; d++) {
    const expected =
      (input.shape[d] as number) + (paddings[2 * d] as number) + (paddings[2 * d + 1] as number);
    if (output.shape[d] !== expected)
      throw ctx.error(`padded shape [${output.shape}] is not the expected one`);
  }
  const layout: Layout = rank === 4 ? 'nchw' : 'nhwc';
  const order = layout === 'nchw' ? [...TO_NCHW] : [...Array(rank).keys()];
  const pads = [
    ...order.map((d) => paddings[2 * d] as number),
    ...order.map((d) => paddings[2 * d + 1] as number),
  ];
  const x = ctx.value(input.index, layout);
  let value: string;
  if (isQuantizedType(input.type)) {
    if (output.type !== input.type) throw ctx.error('PAD changes the element type');
    value = ctx.quantInputs(output)[1];
  } else {
    requireFloat(ctx, input, output);
    value = ctx.float32Scalar(0);
  }
  ctx.bind(output.index, layout, ctx.op('Pad', [x, ctx.int64s(pads), value]));
}
