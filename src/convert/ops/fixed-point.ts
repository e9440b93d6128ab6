/**
 * TFLite's own integer rescaling (QuantizeMultiplier + MultiplyByQuantizedMultiplier), for ops
 * LiteRT runs on TFLite's kernels rather than XNNPACK's: a real multiplier becomes a 31-bit
 * fraction and a power of two, and the product is rounded twice, both times half away from
 * zero: by the doubling high multiply and by the rounding right shift. Exact integer
 * arithmetic (BigInt): callers tabulate it for the 256 values of a byte.
 */
export function tfliteRescale(real: number): (value: number) => number {
  if (!(real > 0)) return () => 0;
  // frexp: real = fraction x 2^exponent with fraction in [0.5, 1).
  let exponent = Math.floor(Math.log2(real)) + 1;
  let fraction = real / 2 ** exponent;
  if (fraction >= 1) {
    fraction /= 2;
    exponent += 1;
  } else if (fraction < 0.5) {
    fraction *= 2;
    exponent -= 1;
  }
  // std::round: half away from zero (fraction is positive).
  let multiplier = BigInt(Math.round(fraction * 2 ** 31));
  if (multiplier === 1n << 31n) {
    multiplier /= 2n;
    exponent += 1;
  }
  if (exponent < -31) return () => 0;
  const left = BigInt(Math.max(exponent, 0));
  const right = BigInt(Math.max(-exponent, 0));
  return (value) => {
    const product = (BigInt(value) << left) * multiplier;
    const nudge = product >= 0n ? 1n << 30n : 1n - (1n << 30n);
    // C++ integer division truncates toward zero, as BigInt division does.
    const high = (product + nudge) / (1n << 31n);
    const mask = (1n << right) - 1n;
    const threshold = (mask >> 1n) + (high < 0n ? 1n : 0n);
    return Number((high >> right) + ((high & mask) > threshold ? 1n : 0n));
  };
}
