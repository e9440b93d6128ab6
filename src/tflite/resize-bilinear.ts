/**
 * LiteRT's quantized RESIZE_BILINEAR, as XNNPACK computes it (LiteRT runs it there): the one
 * TypeScript statement of its arithmetic. The converter emits it as ONNX operators
 * (src/convert/ops/resize.ts); the segment task computes it where DeepLab's class map is in
 * doubt (src/tasks/segment/upsample.ts).
 *
 * Each output position's source position is computed in float32; its fractional part becomes
 * an 11-bit weight (lrintf(fraction x 2048)). A pixel interpolates the stored integers of its
 * four neighbours: the two rows first across the columns (left x 2048 + (right - left) x
 * column weight), then those two down the rows the same way; the sum has 22 fractional bits
 * and is rounded half up. Every weight is in [0, 2048], so each step is a convex combination:
 * an output never leaves the range of its four neighbours.
 */

export interface ResizeMode {
  readonly alignCorners: boolean;
  readonly halfPixelCenters: boolean;
}

/** One axis of a quantized resize: for every output position, its two sources and 11-bit weight. */
export interface AxisSampling {
  readonly low: Int32Array;
  /** min(low + 1, last source): the second neighbour, the first again at the edge. */
  readonly high: Int32Array;
  /** In [0, 2048]: the share of `high`, in 2048ths. */
  readonly weight: Int32Array;
}

/** The weight of a whole interpolation step: 2^11. */
export const WEIGHT_ONE = 2048;

/** Rounds half to even, as lrintf does. */
function lrint(value: number): number {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** XNNPACK's xnn_indirection_init_resize_bilinear2d_hwc_q11, for one axis, in float32 steps. */
export function axisSampling(size: number, outSize: number, mode: ResizeMode): AxisSampling {
  const f = Math.fround;
  const adjustment = mode.alignCorners && outSize !== 1 ? 1 : 0;
  const scale = f(f(size - adjustment) / f(outSize - adjustment));
  const last = size - 1;
  const legacy = !mode.halfPixelCenters;
  const offset = f(f(0.5 * scale) - 0.5);
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const weight = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let position = f(o * scale);
    if (!legacy) position = Math.min(Math.max(f(position + offset), 0), last);
    const top = Math.trunc(position);
    low[o] = top;
    high[o] = Math.min(top + 1, last);
    weight[o] = lrint(f(f(position - top) * WEIGHT_ONE));
  }
  return { low, high, weight };
}

/**
 * One output value from its four stored neighbours (uint8 or int8 values as they are stored)
 * and the column and row weights: XNNPACK's ibilinear microkernel, exactly. Every
 * intermediate stays within ±2^31, so the shift is the arithmetic one XNNPACK does.
 */
export function bilinearSample(
  topLeft: number,
  topRight: number,
  bottomLeft: number,
  bottomRight: number,
  columnWeight: number,
  rowWeight: number,
): number {
  const top = topLeft * WEIGHT_ONE + (topRight - topLeft) * columnWeight;
  const bottom = bottomLeft * WEIGHT_ONE + (bottomRight - bottomLeft) * columnWeight;
  return (top * WEIGHT_ONE + (bottom - top) * rowWeight + (1 << 21)) >> 22;
}
