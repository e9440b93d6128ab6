/**
 * Fused activations (the `fused_activation_function` of CONV_2D, ADD, pools, ...).
 *
 * Float: the activation as an ONNX op after the main one (ORT fuses Conv+Relu/Clip itself).
 * Quantized: TFLite does not apply a function, it clamps the quantized output to the range the
 * activation maps to (CalculateActivationRangeQuantized): RELU6 on uint8 with scale 6/255 and
 * zero point 0 is the whole [0, 255] and costs nothing, but with other output parameters the
 * range is narrower and the clamp matters, so it becomes a Clip on the quantized values.
 */
import { ActivationFunctionType, activationName } from '../../tflite/schema.js';
import { type LoweringContext, quantRange, type TensorView } from './context.js';

export function floatActivation(ctx: LoweringContext, input: string, activation: number): string {
  switch (activation) {
    case ActivationFunctionType.NONE:
      return input;
    case ActivationFunctionType.RELU:
      return ctx.op('Relu', [input]);
    case ActivationFunctionType.RELU6:
      return ctx.op('Clip', [input, ctx.float32Scalar(0), ctx.float32Scalar(6)]);
    case ActivationFunctionType.RELU_N1_TO_1:
      return ctx.op('Clip', [input, ctx.float32Scalar(-1), ctx.float32Scalar(1)]);
    case ActivationFunctionType.TANH:
      return ctx.op('Tanh', [input]);
    default:
      throw ctx.error(`fused activation ${activationName(activation)} is not supported`);
  }
}

/** TfLiteRound: half away from zero. */
export function roundHalfAway(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

/** The quantized [min, max] TFLite clamps an output to, for `activation` and the output's parameters. */
export function quantizedActivationRange(
  ctx: LoweringContext,
  activation: number,
  output: TensorView,
): [number, number] {
  const [qmin, qmax] = quantRange(output.type);
  const quant = ctx.requirePerTensor(output);
  const scale = quant.scales[0] as number;
  const zeroPoint = quant.zeroPoints[0] as number;
  const quantize = (value: number) => zeroPoint + roundHalfAway(Math.fround(value / scale));
  switch (activation) {
    case ActivationFunctionType.NONE:
      return [qmin, qmax];
    case ActivationFunctionType.RELU:
      return [Math.max(qmin, quantize(0)), qmax];
    case ActivationFunctionType.RELU6:
      return [Math.max(qmin, quantize(0)), Math.min(qmax, quantize(6))];
    case ActivationFunctionType.RELU_N1_TO_1:
      return [Math.max(qmin, quantize(-1)), Math.min(qmax, quantize(1))];
    default:
      throw ctx.error(`fused activation ${activationName(activation)} on quantized tensors is not supported`);
  }
}

/** Clamps a quantized value to the activation's range; no node when the range is the whole type. */
export function quantizedActivation(
  ctx: LoweringContext,
  input: string,
  activation: number,
  output: TensorView,
): string {
  const [qmin, qmax] = quantRange(output.type);
  const [low, high] = quantizedActivationRange(ctx, activation, output);
  if (low <= qmin && high >= qmax) return input;
  return ctx.op('Clip', [input, ctx.quantScalar(low, output.type), ctx.quantScalar(high, output.type)]);
}
