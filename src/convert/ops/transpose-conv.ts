/**
 * MediaPipe's custom Convolution2DTransposeBias (the selfie segmentation model's last layer):
 * a float transposed convolution with a bias, as ONNX ConvTranspose.
 *
 * Its custom options are not a FlexBuffer but TFLite's TfLiteTransposeConvParams struct copied
 * as bytes: int32 padding (1 SAME, 2 VALID; TfLitePadding, not the schema's Padding), int32
 * stride_width, int32 stride_height (newer writers may append more fields). Weights are
 * [output channels, kh, kw, input channels], inputs (data, weights, bias).
 *
 * MediaPipe's kernel: with SAME, total padding = max(0, k - (in - 1) % stride - 1), the output
 * is stride x (in - 1) + k - total, and the first floor(total / 2) rows and columns of the full
 * result are cut off, the rest at the end. That is ConvTranspose with pads [floor(total / 2),
 * total - floor(total / 2)]. The output size recorded in the file is checked against it.
 */
import { attr, OnnxDataType } from '../onnx-writer.js';
import {
  elementCount,
  type LoweringContext,
  type OperatorView,
  permuteRaw,
  requireFloat,
  requireRank,
} from './context.js';

/** TfLitePadding values (tensorflow/lite/core/c/builtin_op_data.h). */
const TFLITE_PADDING_SAME = 1;
const TFLITE_PADDING_VALID = 2;

interface TransposeConvParams {
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
}

function transposeConvParams(ctx: LoweringContext, op: OperatorView): TransposeConvParams {
  const raw = op.operator.customOptions;
  if (!raw || raw.length < 12) throw ctx.error('its options (padding and strides, 12 bytes) are missing');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const params = {
    padding: view.getInt32(0, true),
    strideW: view.getInt32(4, true),
    strideH: view.getInt32(8, true),
  };
  if (params.padding !== TFLITE_PADDING_SAME && params.padding !== TFLITE_PADDING_VALID) {
    throw ctx.error(`padding ${params.padding} is neither SAME nor VALID`);
  }
  // Bounded so an edited file cannot ask ORT for a gigantic output; strides of vision models are 1-4.
  if (![params.strideW, params.strideH].every((s) => Number.isInteger(s) && s >= 1 && s <= 64)) {
    throw ctx.error(`strides [${params.strideW}, ${params.strideH}] are not between 1 and 64`);
  }
  return params;
}

/** [before, after] cropping and the output size of one spatial axis, MediaPipe's way. */
function axisPadding(
  padding: number,
  size: number,
  kernel: number,
  stride: number,
): [number, number, number] {
  const total = padding === TFLITE_PADDING_SAME ? Math.max(0, kernel - ((size - 1) % stride) - 1) : 0;
  const before = Math.floor(total / 2);
  return [before, total - before, stride * (size - 1) + kernel - total];
}

export function lowerConvolution2DTransposeBias(ctx: LoweringContext, op: OperatorView): void {
  const params = transposeConvParams(ctx, op);
  const [inputIndex = -1, weightIndex = -1, biasIndex = -1] = op.inputs;
  if (op.inputs.length !== 3 || biasIndex < 0) throw ctx.error('it needs data, weights and a bias');
  const input = ctx.tensor(inputIndex);
  const weights = ctx.tensor(weightIndex);
  const bias = ctx.tensor(biasIndex);
  const output = ctx.tensor(op.outputs[0] ?? -1);
  for (const view of [input, weights, output]) requireRank(ctx, view, 4);
  requireFloat(ctx, input, weights, bias, output);
  const [outChannels, kh, kw, inChannels] = weights.shape as [number, number, number, number];
  if (input.shape[3] !== inChannels || output.shape[3] !== outChannels) {
    throw ctx.error(
      `weights [${weights.shape}] do not fit input [${input.shape}] and output [${output.shape}]`,
    );
  }
  if (elementCount(bias.shape) !== outChannels)
    throw ctx.error(`bias '${bias.name}' must hold ${outChannels} values`);
  const [top, bottom, height] = axisPadding(params.padding, input.shape[1] as number, kh, params.strideH);
  const [left, right, width] = axisPadding(params.padding, input.shape[2] as number, kw, params.strideW);
  if (output.shape[1] !== height || output.shape[2] !== width) {
    throw ctx.error(`output [${output.shape}] is not the ${height}x${width} the op computes`);
  }
  // ONNX ConvTranspose weights are [input channels, output channels, kh, kw].
  const w = ctx.initializer(
    'w',
    OnnxDataType.FLOAT,
    [inChannels, outChannels, kh, kw],
    permuteRaw(ctx.requireConstant(weightIndex, 'the weights'), 4, weights.shape, [3, 0, 1, 2]),
  );
  const b = ctx.initializer(
    'bias',
    OnnxDataType.FLOAT,
    [outChannels],
    ctx.requireConstant(biasIndex, 'the bias'),
  );
  const y = ctx.op('ConvTranspose', [ctx.value(inputIndex, 'nchw'), w, b], {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([params.strideH, params.strideW]),
    pads: attr.ints([top, left, bottom, right]),
  });
  ctx.bind(output.index, 'nchw', y);
}
