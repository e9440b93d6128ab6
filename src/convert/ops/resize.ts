/**
 * RESIZE_BILINEAR, float and quantized.
 *
 * Float: ONNX Resize, whose align_corners, half_pixel and asymmetric coordinate mappings are
 * TFLite's three (asymmetric is TFLite's default: source = destination x in / out).
 *
 * Quantized (uint8, and int8 held as uint8): LiteRT runs it on XNNPACK, which interpolates the
 * stored integers in fixed point: each output pixel's source position is computed in float32,
 * its fractional parts become 11-bit weights (lrintf(alpha x 2048)), the row is interpolated
 * as left x 2048 + (right - left) x alpha_h, then the column the same way on those, and the
 * sum (22 fractional bits) is rounded half up (src/tflite/resize-bilinear.ts states it in
 * TypeScript). The positions and weights are computed once, at conversion, exactly as XNNPACK
 * computes them (axisSampling, every step one float32 operation); the ONNX graph gathers the
 * neighbours and does the integer arithmetic, so the result is LiteRT's byte for byte on
 * every CPU. (Held values are stored + 128: the sum moves by 128 x 2^22, a whole
 * number of output steps, so the rounding is unchanged.)
 */

import { type AxisSampling, axisSampling, type ResizeMode } from '../../tflite/resize-bilinear.js';
import { BuiltinOptionsType, ResizeBilinearOptions } from '../../tflite/schema.js';
import { attr, OnnxDataType } from '../onnx-writer.js';
import {
  elementCount,
  isQuantizedType,
  type Layout,
  type LoweringContext,
  type OperatorView,
  optionsOf,
  quantOnnxType,
  readInt32s,
  requireFloat,
  requireRank,
  type TensorView,
  TO_NCHW,
} from './context.js';

function resizeMode(ctx: LoweringContext, op: OperatorView): ResizeMode {
  const options = optionsOf(ctx, op, BuiltinOptionsType.ResizeBilinearOptions, ResizeBilinearOptions);
  if (options.alignCorners && options.halfPixelCenters) {
    throw ctx.error('align_corners together with half_pixel_centers is not supported');
  }
  return { alignCorners: options.alignCorners, halfPixelCenters: options.halfPixelCenters };
}

export function lowerResizeBilinear(ctx: LoweringContext, op: OperatorView): void {
  const mode = resizeMode(ctx, op);
  const input = ctx.tensor(op.inputs[0] ?? -1);
  const sizeIndex = op.inputs[1] ?? -1;
  const output = ctx.tensor(op.outputs[0] ?? -1);
  requireRank(ctx, input, 4);
  requireRank(ctx, output, 4);
  const size = readInt32s(ctx.requireConstant(sizeIndex, 'the size'));
  if (size.length !== 2 || size[0] !== output.shape[1] || size[1] !== output.shape[2]) {
    throw ctx.error(`size [${size}] does not match the output [${output.shape}]`);
  }
  if ([...input.shape, ...output.shape].some((d) => d < 1)) {
    throw ctx.error(`RESIZE_BILINEAR from [${input.shape}] to [${output.shape}] has an empty dimension`);
  }
  if (input.shape[0] !== output.shape[0] || input.shape[3] !== output.shape[3]) {
    throw ctx.error(`input [${input.shape}] and output [${output.shape}] differ beyond height and width`);
  }
  if (isQuantizedType(input.type)) {
    lowerQuantizedResize(ctx, input, output, mode);
    return;
  }
  requireFloat(ctx, input, output);
  const coordinates = mode.alignCorners
    ? 'align_corners'
    : mode.halfPixelCenters
      ? 'half_pixel'
      : 'asymmetric';
  const sizes = TO_NCHW.map((axis) => output.shape[axis] as number);
  const x = ctx.value(input.index, 'nchw');
  const y = ctx.op('Resize', [x, '', '', ctx.sizesOperand(x, sizes)], {
    mode: attr.string('linear'),
    coordinate_transformation_mode: attr.string(coordinates),
  });
  ctx.bind(output.index, 'nchw', y);
}

function int32Initializer(ctx: LoweringContext, hint: string, dims: readonly number[], values: Int32Array) {
  return ctx.initializer(hint, OnnxDataType.INT32, dims, new Uint8Array(values.buffer));
}

/** Weights shaped to broadcast along `axis` of a rank-4 tensor. */
function axisWeights(ctx: LoweringContext, axis: number, weights: Int32Array): string {
  return int32Initializer(ctx, 'weight', [weights.length, ...new Array<number>(3 - axis).fill(1)], weights);
}

/** Interpolates an int32 value along one axis: low x 2048 + (high - low) x weight. */
function interpolateAxis(ctx: LoweringContext, x: string, axis: number, sampling: AxisSampling): string {
  const count = sampling.low.length;
  const gather = (indices: Int32Array) =>
    ctx.op('Gather', [x, int32Initializer(ctx, 'index', [count], indices)], { axis: attr.int(axis) });
  const low = gather(sampling.low);
  return ctx.op('Add', [
    ctx.op('Mul', [low, ctx.int32Scalar(2048)]),
    ctx.op('Mul', [ctx.op('Sub', [gather(sampling.high), low]), axisWeights(ctx, axis, sampling.weight)]),
  ]);
}

/**
 * The last interpolation, along `axis`, straight to the rounded result: the sum XNNPACK
 * computes is exact in integers (no step of it rounds), so its terms may be formed in any
 * order. The output is the large tensor; per output element this costs two gathers, a
 * multiplication, an addition and the division: low x 2048 + 2^21 and the difference to the
 * next position are formed on the smaller input first.
 */
function interpolateAndRound(
  ctx: LoweringContext,
  x: string,
  axis: number,
  sampling: AxisSampling,
  size: number,
): string {
  const count = sampling.low.length;
  const next = Int32Array.from({ length: size }, (_, i) => Math.min(i + 1, size - 1));
  const index = (values: Int32Array) => int32Initializer(ctx, 'index', [values.length], values);
  const base = ctx.op('Add', [ctx.op('Mul', [x, ctx.int32Scalar(2048)]), ctx.int32Scalar(1 << 21)]);
  const step = ctx.op('Sub', [ctx.op('Gather', [x, index(next)], { axis: attr.int(axis) }), x]);
  // XNNPACK's high is min(low + 1, last): the difference to the next position, 0 at the end.
  for (let o = 0; o < count; o++) {
    const low = sampling.low[o] as number;
    if (sampling.high[o] !== (next[low] as number)) throw ctx.error('resize sampling is not adjacent');
  }
  // The large part in uint32, whose arithmetic wraps: the negative steps wrap around and back,
  // since every sum is in [0, 2^31). It lets a shift divide: ORT's int32 Div took 48 ms for
  // DeepLab's 513x513x21 output here, BitShift 4.
  const unsigned = (value: string) => ctx.op('Cast', [value], { to: attr.int(OnnxDataType.UINT32) });
  const gathered = (value: string) =>
    ctx.op('Gather', [unsigned(value), index(sampling.low)], { axis: attr.int(axis) });
  const weights = ctx.initializer(
    'weight',
    OnnxDataType.UINT32,
    [count, ...new Array<number>(3 - axis).fill(1)],
    new Uint8Array(Uint32Array.from(sampling.weight).buffer),
  );
  const sum = ctx.op('Add', [gathered(base), ctx.op('Mul', [gathered(step), weights])]);
  return ctx.op(
    'BitShift',
    [sum, ctx.initializer('shift', OnnxDataType.UINT32, [], new Uint8Array(Uint32Array.of(22).buffer))],
    {
      direction: attr.string('RIGHT'),
    },
  );
}

/**
 * Whether every output position along an axis reads exactly one source cell (a zero weight,
 * or both neighbours the same cell), and that cell is the position itself (same size) or the
 * only one (size 1): the interpolation of four equal values is that value, so the axis
 * copies or broadcasts its input.
 */
function copiesSources(sampling: AxisSampling, size: number): boolean {
  return sampling.low.every(
    (low, o) => (sampling.weight[o] === 0 || sampling.high[o] === low) && low === (size === 1 ? 0 : o),
  );
}

function lowerQuantizedResize(
  ctx: LoweringContext,
  input: TensorView,
  output: TensorView,
  mode: ResizeMode,
): void {
  if (output.type !== input.type) throw ctx.error('RESIZE_BILINEAR changes the element type');
  const inQuant = ctx.requirePerTensor(input);
  const outQuant = ctx.requirePerTensor(output);
  // TFLite interpolates the stored values: it needs (and LiteRT assumes) one quantization.
  if (inQuant.scales[0] !== outQuant.scales[0] || inQuant.zeroPoints[0] !== outQuant.zeroPoints[0]) {
    throw ctx.error('a quantized RESIZE_BILINEAR whose input and output quantization differ');
  }
  // Either layout serves. Upsampling works in NHWC, whatever the input's layout: a transpose
  // of the small input is cheaper than one of the large output (DeepLab's last op, whose
  // output leaves the graph in NHWC), and the row gathers copy whole rows of pixels.
  const upsampling = elementCount(output.shape) > elementCount(input.shape);
  const layout: Layout = upsampling ? 'nhwc' : ctx.heldLayout(input.index);
  const [hAxis, wAxis] = layout === 'nhwc' ? [1, 2] : [2, 3];
  const rows = axisSampling(input.shape[1] as number, output.shape[1] as number, mode);
  const columns = axisSampling(input.shape[2] as number, output.shape[2] as number, mode);
  if (copiesSources(rows, input.shape[1] as number) && copiesSources(columns, input.shape[2] as number)) {
    // Every output pixel is one input pixel as it is: a broadcast (DeepLab's image pooling,
    // 1x1 to 33x33x256) or a copy (its ResizeBilinear_1, 33x33 to 33x33), not the ~1 ms of
    // gathers and integer arithmetic each took in onnxruntime.
    const shape = layout === 'nhwc' ? output.shape : TO_NCHW.map((axis) => output.shape[axis] as number);
    ctx.bind(output.index, layout, ctx.op('Expand', [ctx.value(input.index, layout), ctx.int64s(shape)]));
    return;
  }
  const x = ctx.op('Cast', [ctx.value(input.index, layout)], { to: attr.int(OnnxDataType.INT32) });
  // Columns first, so the last gathers, onto the large output, take whole rows (runs of
  // width x channels values in NHWC) rather than single pixels. All values are non-negative
  // (held bytes), so a right shift is a floor.
  const horizontal = interpolateAxis(ctx, x, wAxis, columns);
  const rounded = interpolateAndRound(ctx, horizontal, hAxis, rows, input.shape[1] as number);
  ctx.bind(output.index, layout, ctx.op('Cast', [rounded], { to: attr.int(quantOnnxType(output.type)) }));
}
