/**
 * MEAN (TF2 classifiers end in one: global average pooling written as a mean over height and
 * width).
 *
 * Quantized, LiteRT computes it with XNNPACK's mean operator: an int32 sum of the stored
 * values, then in float32 `sum * scale + bias` with scale = (input scale / output scale) x
 * (1 / count) and bias = output zero point - input zero point x count x scale, rounded half to
 * even and clamped. (TFLite's own reference kernel, integer fixed point, lands one step away
 * where the exact mean is within 1e-6 of a half; LiteRT's outputs equal this formula on every
 * possible sum, for every parameter set tried: test/convert.test.ts checks two of them, int8
 * and uint8, chosen with such near-halves.) The result depends on the sum alone, so the ONNX
 * graph sums in int32 and looks the answer up in a table computed here, for every sum the
 * input can have: exact by construction, on every CPU. Float MEAN is ReduceMean.
 */

import { BuiltinOptionsType, ReducerOptions, TensorType, tensorTypeName } from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import {
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  readInt32s,
  requireFloat,
  type TensorView,
  TO_NCHW,
} from './context.js';
import { roundHalfEven } from './elementwise.js';

/** Largest table (one byte per possible sum): a mean over at most 4112 values. */
const MAX_TABLE = 1 << 20;

export interface MeanQuantization {
  readonly inputScale: number;
  readonly inputZeroPoint: number;
  readonly outputScale: number;
  readonly outputZeroPoint: number;
  /** The smallest stored value: -128 for int8, 0 for uint8. */
  readonly lowest: number;
}

/**
 * The stored mean of `count` values for every sum of their stored values, from `lowest x count`
 * up, as LiteRT computes it (see above). Every step is one float32 operation, as Math.fround
 * reproduces exactly; sums up to 255 x 4112 are exact in float32.
 */
export function quantizedMeanTable(q: MeanQuantization, count: number): Int32Array {
  const f = Math.fround;
  const scale = f(f(q.inputScale / q.outputScale) * f(1 / count));
  const bias = f(q.outputZeroPoint - f(f(q.inputZeroPoint * count) * scale));
  return Int32Array.from({ length: 255 * count + 1 }, (_, i) => {
    const mean = roundHalfEven(f(f((q.lowest * count + i) * scale) + bias));
    return Math.min(q.lowest + 255, Math.max(q.lowest, mean));
  });
}

/** The reduced axes, TFLite's way: negatives count from the end, repeats are ignored. */
function reducedAxes(ctx: LoweringContext, op: OperatorView, rank: number): number[] {
  const axisIndex = op.inputs[1] ?? -1;
  const axisView = ctx.tensor(axisIndex);
  if (axisView.type !== TensorType.INT32)
    throw ctx.error(`MEAN axes must be int32, not ${tensorTypeName(axisView.type)}`);
  const axes: number[] = [];
  for (const raw of readInt32s(ctx.requireConstant(axisIndex, 'the MEAN axes'))) {
    const axis = raw < 0 ? raw + rank : raw;
    if (axis < 0 || axis >= rank) throw ctx.error(`MEAN axis ${raw} is outside rank ${rank}`);
    if (!axes.includes(axis)) axes.push(axis);
  }
  return axes.sort((a, b) => a - b);
}

export function lowerMean(ctx: LoweringContext, op: OperatorView): void {
  const { keepDims } = optionsOf(ctx, op, BuiltinOptionsType.ReducerOptions, ReducerOptions);
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  const rank = input.shape.length;
  const axes = reducedAxes(ctx, op, rank);
  ctx.requireNotBatchAxis(axes, 'MEAN');
  const expected = input.shape.flatMap((size, axis) =>
    axes.includes(axis) ? (keepDims ? [1] : []) : [size],
  );
  if (expected.join() !== output.shape.join()) {
    throw ctx.error(`MEAN of [${input.shape}] over [${axes}] gives [${expected}], not [${output.shape}]`);
  }
  // Channels-first when the rank is kept (the neighbours are convolutions); TFLite's order otherwise.
  const layout: Layout = rank === 4 && keepDims ? 'nchw' : 'nhwc';
  const onnxAxes = layout === 'nchw' ? axes.map((axis) => TO_NCHW.indexOf(axis as 0 | 1 | 2 | 3)) : axes;
  const x = ctx.value(input.index, layout);
  const keep = attr.int(keepDims ? 1 : 0);
  if (!isQuantizedType(input.type)) {
    requireFloat(ctx, input, output);
    ctx.bind(output.index, layout, ctx.op('ReduceMean', [x], { axes: attr.ints(onnxAxes), keepdims: keep }));
    return;
  }
  const count = axes.reduce((product, axis) => product * (input.shape[axis] as number), 1);
  const sum = ctx.op(
    'ReduceSum',
    [ctx.op('Cast', [x], { to: attr.int(OnnxDataType.INT32) }), ctx.int64s(onnxAxes)],
    {
      keepdims: keep,
    },
  );
  const table = meanLookup(ctx, input, output, count);
  ctx.bind(output.index, layout, ctx.op('Gather', [table, sum], { axis: attr.int(0) }));
}

/** The uint8 table from a sum of stored values (0 to 255 x count) to the stored mean. */
function meanLookup(ctx: LoweringContext, input: TensorView, output: TensorView, count: number): string {
  if (input.tfliteType !== output.tfliteType) {
    throw ctx.error(`MEAN from ${tensorTypeName(input.tfliteType)} to ${tensorTypeName(output.tfliteType)}`);
  }
  if (count < 1 || 255 * count + 1 > MAX_TABLE) {
    throw ctx.error(`quantized MEAN over ${count} values is not supported`);
  }
  const inQuant = ctx.requirePerTensor(input);
  const outQuant = ctx.requirePerTensor(output);
  // LiteRT's float arithmetic is not blind to the stored type (sum x scale is rounded), so the
  // table is computed on TFLite's own values; an int8 tensor's are held as uint8 (context.ts).
  const held = input.type !== input.tfliteType ? 128 : 0;
  const means = quantizedMeanTable(
    {
      inputScale: inQuant.scales[0] as number,
      inputZeroPoint: (inQuant.zeroPoints[0] as number) - held,
      outputScale: outQuant.scales[0] as number,
      outputZeroPoint: (outQuant.zeroPoints[0] as number) - held,
      lowest: -held,
    },
    count,
  );
  const raw = Uint8Array.from(means, (mean) => mean + held);
  return ctx.initializer('mean_table', OnnxDataType.UINT8, [raw.length], raw);
}
