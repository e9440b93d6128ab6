/** Which function lowers each TFLite builtin operator; an operator not listed is unsupported. */
import { BuiltinOperator } from '../../tflite/schema.js';
import { lowerCast, lowerDiv, lowerFloorDiv, lowerSqrt, lowerSub } from './arithmetic.js';
import type { LoweringContext, OperatorView } from './context.js';
import { lowerConv2d, lowerDepthwiseConv2d, lowerFullyConnected } from './conv.js';
import { lowerCustom } from './custom.js';
import { lowerAdd, lowerRelu, lowerRelu6 } from './elementwise.js';
import { lowerArgMax, lowerGatherNd, lowerPack, lowerUnpack } from './indexing.js';
import { lowerMul } from './mul.js';
import { lowerAveragePool2d, lowerMaxPool2d } from './pool.js';
import { lowerDequantize, lowerQuantize, lowerSoftmax } from './quantize.js';
import { lowerMean } from './reduce.js';
import { lowerResizeBilinear } from './resize.js';
import { lowerConcatenation, lowerPad, lowerReshape } from './shape.js';
import { lowerHardSwish, lowerLogistic } from './unary.js';

export type Lowering = (ctx: LoweringContext, op: OperatorView) => void;

export const LOWERINGS: ReadonlyMap<number, Lowering> = new Map<number, Lowering>([
  [BuiltinOperator.ADD, lowerAdd],
  [BuiltinOperator.ARG_MAX, lowerArgMax],
  [BuiltinOperator.AVERAGE_POOL_2D, lowerAveragePool2d],
  [BuiltinOperator.CAST, lowerCast],
  [BuiltinOperator.CONCATENATION, lowerConcatenation],
  [BuiltinOperator.CONV_2D, lowerConv2d],
  [BuiltinOperator.CUSTOM, lowerCustom],
  [BuiltinOperator.DEPTHWISE_CONV_2D, lowerDepthwiseConv2d],
  [BuiltinOperator.DEQUANTIZE, lowerDequantize],
  [BuiltinOperator.DIV, lowerDiv],
  [BuiltinOperator.FLOOR_DIV, lowerFloorDiv],
  [BuiltinOperator.FULLY_CONNECTED, lowerFullyConnected],
  [BuiltinOperator.GATHER_ND, lowerGatherNd],
  [BuiltinOperator.HARD_SWISH, lowerHardSwish],
  [BuiltinOperator.LOGISTIC, lowerLogistic],
  [BuiltinOperator.MAX_POOL_2D, lowerMaxPool2d],
  [BuiltinOperator.MEAN, lowerMean],
  [BuiltinOperator.MUL, lowerMul],
  [BuiltinOperator.PACK, lowerPack],
  [BuiltinOperator.PAD, lowerPad],
  [BuiltinOperator.QUANTIZE, lowerQuantize],
  [BuiltinOperator.RELU, lowerRelu],
  [BuiltinOperator.RELU6, lowerRelu6],
  [BuiltinOperator.RESHAPE, lowerReshape],
  [BuiltinOperator.RESIZE_BILINEAR, lowerResizeBilinear],
  [BuiltinOperator.SOFTMAX, lowerSoftmax],
  [BuiltinOperator.SQRT, lowerSqrt],
  [BuiltinOperator.SUB, lowerSub],
  [BuiltinOperator.UNPACK, lowerUnpack],
]);
