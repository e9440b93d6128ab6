/**
 * Class scores at a low resolution to a class per pixel at a higher one: the scores scaled up
 * bilinearly with aligned corners (the first and last rows and columns of both grids
 * coincide, as DeepLab's own ResizeBilinear does), then the best class per pixel.
 *
 * DeepLab computes 33x33 class scores and its graph scales all 21 of them to 513x513 before
 * its ArgMax: 5.5 million values, the largest tensor of the model, and on onnxruntime its
 * costliest step. Done here it is nearly free: where the four source pixels around an output
 * pixel agree on their best class, so does every blend of them (a weighted mean keeps the
 * class that is highest at every corner on top), so only pixels on class boundaries blend
 * the scores. This is the class the model's own ResizeBilinear
 * and ArgMax give: quantized blends are rounded to whole steps as that kernel stores them
 * (measured: the same class for every pixel of 8 test photos, grace_hopper to solvay).
 */
import type { TensorData } from '../../engine/types.js';
import { argmaxClasses, type MaskSize } from './masks.js';

interface Axis {
  /** Lower and upper source index, and the weight of the upper one, per output index. */
  readonly low: Int32Array;
  readonly high: Int32Array;
  readonly weight: Float32Array;
}

function alignedAxis(from: number, to: number): Axis {
  const low = new Int32Array(to);
  const high = new Int32Array(to);
  const weight = new Float32Array(to);
  const scale = to > 1 ? (from - 1) / (to - 1) : 0;
  for (let i = 0; i < to; i++) {
    const source = i * scale;
    const lower = Math.min(from - 1, Math.floor(source));
    low[i] = lower;
    high[i] = Math.min(from - 1, lower + 1);
    weight[i] = source - lower;
  }
  return { low, high, weight };
}

/**
 * The best class of the blend of four source pixels' scores (the first on a tie). Quantized
 * scores are rounded to whole steps as the model's uint8 ResizeBilinear stores them, so ties
 * fall as they do in the model's ArgMax.
 */
function blendedBest(
  scores: TensorData,
  channels: number,
  quantized: boolean,
  corners: Int32Array,
  weights: Float64Array,
): number {
  const a = corners[0] as number;
  const b = corners[1] as number;
  const c = corners[2] as number;
  const d = corners[3] as number;
  const wa = weights[0] as number;
  const wb = weights[1] as number;
  const wc = weights[2] as number;
  const wd = weights[3] as number;
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < channels; k++) {
    const blend =
      wa * (scores[a + k] as number) +
      wb * (scores[b + k] as number) +
      wc * (scores[c + k] as number) +
      wd * (scores[d + k] as number);
    const score = quantized ? Math.round(blend) : blend;
    if (score > bestScore) {
      bestScore = score;
      best = k;
    }
  }
  return best;
}

export function upsampledClasses(
  scores: TensorData,
  source: MaskSize,
  channels: number,
  target: MaskSize,
): Uint8Array {
  const sourceClasses = argmaxClasses(scores, source.width * source.height, channels);
  const rows = alignedAxis(source.height, target.height);
  const columns = alignedAxis(source.width, target.width);
  const quantized = scores instanceof Uint8Array;
  // Reused for every blended pixel: no allocation in the loop.
  const corners = new Int32Array(4);
  const weights = new Float64Array(4);
  const classes = new Uint8Array(target.width * target.height);
  for (let y = 0; y < target.height; y++) {
    const top = (rows.low[y] as number) * source.width;
    const bottom = (rows.high[y] as number) * source.width;
    const wy = rows.weight[y] as number;
    for (let x = 0; x < target.width; x++) {
      const left = columns.low[x] as number;
      const right = columns.high[x] as number;
      const first = sourceClasses[top + left] as number;
      const agree =
        sourceClasses[top + right] === first &&
        sourceClasses[bottom + left] === first &&
        sourceClasses[bottom + right] === first;
      if (agree) {
        classes[y * target.width + x] = first;
        continue;
      }
      const wx = columns.weight[x] as number;
      corners[0] = (top + left) * channels;
      corners[1] = (top + right) * channels;
      corners[2] = (bottom + left) * channels;
      corners[3] = (bottom + right) * channels;
      weights[0] = (1 - wy) * (1 - wx);
      weights[1] = (1 - wy) * wx;
      weights[2] = wy * (1 - wx);
      weights[3] = wy * wx;
      classes[y * target.width + x] = blendedBest(scores, channels, quantized, corners, weights);
    }
  }
  return classes;
}
