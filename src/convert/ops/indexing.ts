/**
 * ARG_MAX, GATHER_ND, PACK and UNPACK: ops that pick or regroup elements without arithmetic.
 * They work in TFLite's own (NHWC) order, since their axes and indices are TFLite's.
 *
 * Quantized tensors pass through as stored bytes (int8 held as uint8, see context.ts: the
 * order of values and the bytes a gather copies are the same either way), so an op that would
 * have to requantize, because its inputs and output have different parameters, is refused.
 */

import {
  ArgMaxOptions,
  BuiltinOptionsType,
  PackOptions,
  TensorType,
  tensorTypeName,
} from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import {
  isQuantizedType,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  readInt32s,
  type TensorView,
} from './context.js';

function requireSameValues(ctx: LoweringContext, output: TensorView, inputs: readonly TensorView[]): void {
  for (const input of inputs) {
    if (input.type !== output.type || input.tfliteType !== output.tfliteType) {
      throw ctx.error(
        `'${input.name}' is ${tensorTypeName(input.tfliteType)}, the output ${tensorTypeName(output.tfliteType)}`,
      );
    }
    if (!isQuantizedType(output.type)) continue;
    const a = ctx.requirePerTensor(input);
    const b = ctx.requirePerTensor(output);
    if (a.scales[0] !== b.scales[0] || a.zeroPoints[0] !== b.zeroPoints[0]) {
      throw ctx.error(`'${input.name}' and the output are quantized differently`);
    }
  }
}

/** An axis in [0, rank), from TFLite's [-rank, rank). */
function normalAxis(ctx: LoweringContext, axis: number, rank: number): number {
  const normal = axis < 0 ? axis + rank : axis;
  if (normal < 0 || normal >= rank) throw ctx.error(`axis ${axis} is out of range for rank ${rank}`);
  return normal;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * ARG_MAX: ONNX ArgMax keeps the first of equal maxima, as TFLite does (quantized heatmaps
 * have many ties), and gives int64, cast to int32 where the TFLite output is.
 */
export function lowerArgMax(ctx: LoweringContext, op: OperatorView): void {
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const axisView = ctx.tensor(op.inputs[1] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  if (axisView.type !== TensorType.INT32) throw ctx.error('the axis must be an int32 constant');
  const axes = readInt32s(ctx.requireConstant(axisView.index, 'the axis'));
  if (axes.length !== 1) throw ctx.error(`ARG_MAX over ${axes.length} axes`);
  const axis = normalAxis(ctx, axes[0] as number, input.shape.length);
  ctx.requireNotBatchAxis([axis], 'ARG_MAX');
  if (!sameShape(output.shape, input.shape.toSpliced(axis, 1))) {
    throw ctx.error(`output [${output.shape}] is not [${input.shape}] without axis ${axis}`);
  }
  // TFLite types the output by the options, whatever the tensor says: both must agree.
  const { outputType } = optionsOf(ctx, op, BuiltinOptionsType.ArgMaxOptions, ArgMaxOptions);
  if (outputType !== output.type || (output.type !== TensorType.INT32 && output.type !== TensorType.INT64)) {
    throw ctx.error(
      `ARG_MAX into ${tensorTypeName(outputType)} with a ${tensorTypeName(output.type)} output tensor`,
    );
  }
  const x = ctx.value(input.index, 'nhwc');
  let indices = ctx.op('ArgMax', [x], { axis: attr.int(axis), keepdims: attr.int(0) });
  if (output.type === TensorType.INT32)
    indices = ctx.op('Cast', [indices], { to: attr.int(OnnxDataType.INT32) });
  ctx.bind(output.index, 'nhwc', indices);
}

/** GATHER_ND: the same semantics as ONNX GatherND with batch_dims 0, which takes int64 indices. */
export function lowerGatherNd(ctx: LoweringContext, op: OperatorView): void {
  const params = ctx.tensor(op.inputs[0] ?? -1);
  const indices = ctx.tensor(op.inputs[1] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  requireSameValues(ctx, output, [params]);
  // Its indices address the params from their first dimension on, the batch included: a
  // batched graph would gather every item's values from the first item.
  if (ctx.batched) throw ctx.notBatchable('GATHER_ND indexes across the batch dimension');
  const depth = indices.shape.at(-1) ?? 0;
  if (depth < 1 || depth > params.shape.length) {
    throw ctx.error(`indices [${indices.shape}] do not fit params [${params.shape}]`);
  }
  if (!sameShape(output.shape, [...indices.shape.slice(0, -1), ...params.shape.slice(depth)])) {
    throw ctx.error(`output [${output.shape}] does not match the gather`);
  }
  let where = ctx.value(indices.index, 'nhwc');
  if (indices.type === TensorType.INT32)
    where = ctx.op('Cast', [where], { to: attr.int(OnnxDataType.INT64) });
  else if (indices.type !== TensorType.INT64)
    throw ctx.error(`indices of type ${tensorTypeName(indices.type)}`);
  ctx.bind(output.index, 'nhwc', ctx.op('GatherND', [ctx.value(params.index, 'nhwc'), where]));
}

/** PACK: stacks its inputs along a new axis. */
export function lowerPack(ctx: LoweringContext, op: OperatorView): void {
  const { count, axis } = optionsOf(ctx, op, BuiltinOptionsType.PackOptions, PackOptions);
  const inputs = op.inputs.map((index) => ctx.tensor(index));
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const [first] = inputs;
  if (!first || count !== inputs.length)
    throw ctx.error(`PACK of ${count} values with ${inputs.length} inputs`);
  requireSameValues(ctx, output, inputs);
  const at = normalAxis(ctx, axis, output.shape.length);
  ctx.requireNotBatchAxis([at], 'PACK');
  for (const input of inputs) {
    if (
      !sameShape(input.shape, first.shape) ||
      !sameShape(output.shape, first.shape.toSpliced(at, 0, count))
    ) {
      throw ctx.error(`cannot pack [${input.shape}] into [${output.shape}]`);
    }
  }
  const axes = ctx.int64s([at]);
  const parts = inputs.map((input) => ctx.op('Unsqueeze', [ctx.value(input.index, 'nhwc'), axes]));
  ctx.bind(output.index, 'nhwc', ctx.op('Concat', parts, { axis: attr.int(at) }));
}

/** UNPACK: splits its input along an axis into that many outputs, the axis removed. */
export function lowerUnpack(ctx: LoweringContext, op: OperatorView): void {
  const { count, axis } = optionsOf(ctx, op, BuiltinOptionsType.UnpackOptions, PackOptions);
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const outputs = op.outputs.map((index) => ctx.tensor(index));
  const at = normalAxis(ctx, axis, input.shape.length);
  ctx.requireNotBatchAxis([at], 'UNPACK');
  if (count !== outputs.length || input.shape[at] !== count) {
    throw ctx.error(`UNPACK of [${input.shape}] into ${count} (${outputs.length} outputs) along axis ${at}`);
  }
  for (const output of outputs) {
    requireSameValues(ctx, output, [input]);
    if (!sameShape(output.shape, input.shape.toSpliced(at, 1))) {
      throw ctx.error(`cannot unpack [${input.shape}] into [${output.shape}]`);
    }
  }
  const pieces = outputs.map((output) => ctx.fresh(`unpack${output.index}`));
  ctx.emit('Split', [ctx.value(input.index, 'nhwc'), ctx.int64s(outputs.map(() => 1))], pieces, {
    axis: attr.int(at),
  });
  const axes = ctx.int64s([at]);
  outputs.forEach((output, i) => {
    ctx.bind(output.index, 'nhwc', ctx.op('Squeeze', [pieces[i] as string, axes]));
  });
}
