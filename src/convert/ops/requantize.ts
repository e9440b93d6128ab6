/**
 * QUANTIZE as LiteRT computes it on XNNPACK (measured against LiteRT on every input:
 * test/convert-int8.test.ts).
 *
 * From float, XNNPACK multiplies by the float32 reciprocal of the scale and rounds half to
 * even; QuantizeLinear divides by the scale, which lands one step away for values within an
 * ulp of a half step (about 1 in 100 of those). So the graph multiplies first and quantizes
 * with scale 1.
 *
 * Between two quantizations, XNNPACK works in fixed point: the scale ratio as a multiplier of
 * 1/256 steps (lrintf(-256 * ratio)), the product plus half a step shifted right by 8, so
 * results differ from a float rescaling on about 1 in 25 values. A stored byte has 256 values:
 * the graph looks the answer up in a table of XNNPACK's results.
 */
import type { LoweringContext, TensorView } from './context.js';
import { roundHalfEven } from './elementwise.js';

/** A float32 value quantized to `output`'s parameters the way XNNPACK does it. */
export function quantizeFloat(ctx: LoweringContext, x: string, output: TensorView): string {
  const zeroPoint = ctx.quantInputs(output)[1];
  const reciprocal = Math.fround(1 / (ctx.requirePerTensor(output).scales[0] as number));
  const scaled = ctx.op('Mul', [x, ctx.float32Scalar(reciprocal)]);
  return ctx.op('QuantizeLinear', [scaled, ctx.float32Scalar(1), zeroPoint]);
}

/** The scale ratios XNNPACK's delegate takes a requantizing QUANTIZE for. */
const RATIO_RANGE = [2 ** -8, 2 ** 7] as const;

/**
 * XNNPACK's result for every stored byte of `input`, in the graph's (held) values, or undefined
 * when the ratio is outside what XNNPACK takes (TFLite's own kernel runs those).
 */
export function requantizeTable(input: TensorView, output: TensorView): Uint8Array | undefined {
  if (!input.quant || !output.quant || input.quant.scales.length !== 1 || output.quant.scales.length !== 1)
    return undefined;
  const ratio = Math.fround((input.quant.scales[0] as number) / (output.quant.scales[0] as number));
  if (ratio < RATIO_RANGE[0] || ratio > RATIO_RANGE[1]) return undefined;
  const multiplier = roundHalfEven(-256 * ratio);
  const inZero = input.quant.zeroPoints[0] as number;
  const outZero = output.quant.zeroPoints[0] as number;
  // Held values (int8 + 128) shift input and output zero points alike, so the formula holds.
  return Uint8Array.from({ length: 256 }, (_, i) => {
    const value = Math.floor(((inZero - i) * multiplier + outZero * 256 + 128) / 256);
    return Math.min(255, Math.max(0, value));
  });
}
