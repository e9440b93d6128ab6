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
import { tfliteRescale } from './fixed-point.js';

/** A float32 value quantized to `output`'s parameters the way XNNPACK does it. */
export function quantizeFloat(ctx: LoweringContext, x: string, output: TensorView): string {
  const quant = ctx.requirePerTensor(output);
  const zeroPoint = ctx.quantScalar(quant.zeroPoints[0] as number, output.type);
  const reciprocal = Math.fround(1 / (quant.scales[0] as number));
  const scaled = ctx.op('Mul', [x, ctx.float32Scalar(reciprocal)]);
  return ctx.op('QuantizeLinear', [scaled, ctx.float32Scalar(1), zeroPoint]);
}

/** The scale ratios XNNPACK's delegate takes a requantizing QUANTIZE for. */
const RATIO_RANGE = [2 ** -8, 2 ** 7] as const;

/**
 * LiteRT's result for every stored byte of `input`, in the graph's (held) values, or undefined
 * when either tensor is not quantized per tensor. Within one type and a ratio XNNPACK takes,
 * XNNPACK's convert; otherwise (uint8 to int8 or back, or a ratio outside XNNPACK's range)
 * LiteRT runs TFLite's own kernel, which rescales with its 31-bit fixed-point multiplier
 * (fixed-point.ts), with the ratio in double as TFLite computes it.
 */
export function requantizeTable(input: TensorView, output: TensorView): Uint8Array | undefined {
  if (!input.quant || !output.quant || input.quant.scales.length !== 1 || output.quant.scales.length !== 1)
    return undefined;
  const [inScale, outScale] = [input.quant.scales[0] as number, output.quant.scales[0] as number];
  const ratio = Math.fround(inScale / outScale);
  const inZero = input.quant.zeroPoints[0] as number;
  const outZero = output.quant.zeroPoints[0] as number;
  let rescaled: (i: number) => number;
  if (input.tfliteType === output.tfliteType && ratio >= RATIO_RANGE[0] && ratio <= RATIO_RANGE[1]) {
    const multiplier = roundHalfEven(-256 * ratio);
    rescaled = (i) => Math.floor(((inZero - i) * multiplier + outZero * 256 + 128) / 256);
  } else {
    const rescale = tfliteRescale(inScale / outScale);
    rescaled = (i) => rescale(i - inZero) + outZero;
  }
  // Held values (int8 + 128) shift input and output zero points alike, so the formulas hold,
  // and the type's range is [0, 255] in them.
  return Uint8Array.from({ length: 256 }, (_, i) => Math.min(255, Math.max(0, rescaled(i))));
}
