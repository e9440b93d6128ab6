/**
 * The class map of a model whose last step bilinearly upsamples small class scores (DeepLab:
 * 33x33 → 513x513, 21 classes), computed from the small scores without upsampling them.
 *
 * The graph is cut before that RESIZE_BILINEAR (descriptor `segment.upsample` names its
 * coordinate mode; it scales to the input size, uint8, keeping the scores' quantization, as
 * test/segment-upsample.test.ts checks against DeepLab's own op); the class map must still be
 * exactly the argmax of what LiteRT's resize gives. That
 * resize is a convex combination of a pixel's four source cells (src/tflite/resize-bilinear.ts),
 * with the same integer weights for every class: a class that scores more than another at all
 * four cells around a pixel scores more there too. Between four cells that all have the same
 * best class, every pixel is that class with nothing computed; elsewhere (where classes meet)
 * only the classes that no other class beats at all four cells are interpolated, exactly as
 * LiteRT does, and compared with TFLite's tie rule (the first).
 */
import { type AxisSampling, axisSampling, bilinearSample, WEIGHT_ONE } from '../../tflite/resize-bilinear.js';
import { argmaxClasses } from './masks.js';
import type { UpsampleMode } from './section.js';

/** The model's last resize, as the task computes it: from [sourceHeight, sourceWidth, channels]. */
export interface Upsampling {
  readonly sourceHeight: number;
  readonly sourceWidth: number;
  readonly channels: number;
  /** Per output row and column: source cells and weights (the mask is rows x columns). */
  readonly rows: AxisSampling;
  readonly columns: AxisSampling;
}

/**
 * The resize of [sourceHeight, sourceWidth, channels] scores to the mask's size, sampled as
 * XNNPACK samples it. Fails (a RangeError the load check reports) on weights outside
 * [0, 2048]: the bounds this module relies on hold only for convex weights, which XNNPACK's
 * always are.
 */
export function upsamplingFor(
  source: { readonly height: number; readonly width: number; readonly channels: number },
  mask: { readonly height: number; readonly width: number },
  mode: UpsampleMode,
): Upsampling {
  const resizeMode = {
    alignCorners: mode === 'align_corners',
    halfPixelCenters: mode === 'half_pixel_centers',
  };
  const rows = axisSampling(source.height, mask.height, resizeMode);
  const columns = axisSampling(source.width, mask.width, resizeMode);
  for (const axis of [rows, columns]) {
    if (axis.weight.some((weight) => weight < 0 || weight > WEIGHT_ONE))
      throw new RangeError(`a bilinear weight is outside [0, ${WEIGHT_ONE}]`);
  }
  return { sourceHeight: source.height, sourceWidth: source.width, channels: source.channels, rows, columns };
}

/**
 * Whether class `k` wins over class `c` at every pixel between four cells (`corners`: offsets of
 * their scores): k scores at least as much as c at every corner, and one step more where c
 * comes first (the first class wins a tie). The resize weighs both classes' corners alike,
 * with integer weights summing to 2^22, so the difference of their sums is the weighted
 * difference at the corners: at least 0, or at least one whole rounded step, wherever it is so
 * at every corner.
 */
function beatsEverywhere(scores: Uint8Array, corners: Int32Array, k: number, c: number): boolean {
  const margin = k > c ? 1 : 0;
  for (let i = 0; i < 4; i++) {
    const at = corners[i] as number;
    if ((scores[at + k] as number) < (scores[at + c] as number) + margin) return false;
  }
  return true;
}

/**
 * The classes of one block that no other class beats everywhere in it, in class order: the
 * class that wins at each corner (the argmax there) rules out every class it beats at all four;
 * so does a lowest corner score above a class's highest. When one class wins at all four
 * corners it beats every other class everywhere: the block is that class.
 */
function undecided(
  scores: Uint8Array,
  channels: number,
  corners: Int32Array,
  leaders: Int32Array,
  out: number[],
) {
  let floor = 0;
  for (let c = 0; c < channels; c++) {
    let low = 255;
    for (let i = 0; i < 4; i++) low = Math.min(low, scores[(corners[i] as number) + c] as number);
    floor = Math.max(floor, low);
  }
  for (let c = 0; c < channels; c++) {
    let high = 0;
    for (let i = 0; i < 4; i++) high = Math.max(high, scores[(corners[i] as number) + c] as number);
    if (high < floor) continue;
    let beaten = false;
    for (let i = 0; i < 4 && !beaten; i++) {
      const k = leaders[i] as number;
      beaten = k !== c && beatsEverywhere(scores, corners, k, c);
    }
    if (!beaten) out.push(c);
  }
}

/**
 * For every 2x2 block of source cells (named by its top-left cell; at the last row or column
 * the block is that edge), the classes that can be the argmax somewhere between them, as
 * offsets: block b's are candidates[starts[b]] to candidates[starts[b + 1]], in class order.
 */
function blockCandidates(scores: Uint8Array, up: Upsampling): { starts: Int32Array; candidates: Uint8Array } {
  const { sourceHeight: h, sourceWidth: w, channels } = up;
  const cellClasses = argmaxClasses(scores, h * w, channels);
  const starts = new Int32Array(h * w + 1);
  const candidates: number[] = [];
  const corners = new Int32Array(4);
  const leaders = new Int32Array(4);
  for (let row = 0; row < h; row++) {
    const nextRow = Math.min(row + 1, h - 1);
    for (let column = 0; column < w; column++) {
      const nextColumn = Math.min(column + 1, w - 1);
      const cells = [row * w + column, row * w + nextColumn, nextRow * w + column, nextRow * w + nextColumn];
      cells.forEach((cell, i) => {
        corners[i] = cell * channels;
        leaders[i] = cellClasses[cell] as number;
      });
      const leader = leaders[0] as number;
      if (leaders.every((k) => k === leader)) candidates.push(leader);
      else undecided(scores, channels, corners, leaders, candidates);
      starts[row * w + column + 1] = candidates.length;
    }
  }
  return { starts, candidates: Uint8Array.from(candidates) };
}

/**
 * The output columns that read source column j as their left neighbour: starts[j] to
 * starts[j + 1] (the sampling's `low` never decreases, so they are one run).
 */
function columnRuns(columns: AxisSampling, sourceWidth: number): Int32Array {
  const starts = new Int32Array(sourceWidth + 1).fill(columns.low.length);
  for (let x = columns.low.length - 1; x >= 0; x--) starts[columns.low[x] as number] = x;
  for (let j = sourceWidth - 1; j >= 0; j--)
    starts[j] = Math.min(starts[j] as number, starts[j + 1] as number);
  return starts;
}

/** Where one output pixel reads the scores: its four cells' offsets and the two weights. */
interface Pixel {
  topLeft: number;
  topRight: number;
  bottomLeft: number;
  bottomRight: number;
  columnWeight: number;
  rowWeight: number;
}

/** The best of `candidates` (in class order, so a tie keeps the first) at one output pixel. */
function bestAt(scores: Uint8Array, candidates: Uint8Array, first: number, last: number, at: Pixel): number {
  let best = 0;
  let bestScore = -1;
  for (let k = first; k < last; k++) {
    const c = candidates[k] as number;
    const score = bilinearSample(
      scores[at.topLeft + c] as number,
      scores[at.topRight + c] as number,
      scores[at.bottomLeft + c] as number,
      scores[at.bottomRight + c] as number,
      at.columnWeight,
      at.rowWeight,
    );
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/**
 * The class of every output pixel, row by row: argmax over the channels (the first on a tie)
 * of LiteRT's RESIZE_BILINEAR of `scores` ([sourceHeight, sourceWidth, channels] uint8).
 */
export function upsampledArgmax(scores: Uint8Array, up: Upsampling): Uint8Array {
  const { sourceWidth: w, channels, rows, columns } = up;
  if (scores.length !== up.sourceHeight * w * channels) {
    throw new RangeError(`expected ${up.sourceHeight} x ${w} x ${channels} scores, got ${scores.length}`);
  }
  const { starts, candidates } = blockCandidates(scores, up);
  const runs = columnRuns(columns, w);
  const width = columns.low.length;
  const classes = new Uint8Array(rows.low.length * width);
  const at: Pixel = { topLeft: 0, topRight: 0, bottomLeft: 0, bottomRight: 0, columnWeight: 0, rowWeight: 0 };
  for (let y = 0; y < rows.low.length; y++) {
    const top = (rows.low[y] as number) * w;
    const bottom = (rows.high[y] as number) * w;
    at.rowWeight = rows.weight[y] as number;
    const line = y * width;
    // A row between the same source rows as the one before has the same decided blocks: copy
    // it (one memcpy instead of a fill per block) and compute only the undecided pixels.
    const sameBlocks = y > 0 && rows.low[y] === rows.low[y - 1];
    if (sameBlocks) classes.copyWithin(line, line - width, line);
    for (let left = 0; left < w; left++) {
      const first = starts[top + left] as number;
      const last = starts[top + left + 1] as number;
      const [from, to] = [runs[left] as number, runs[left + 1] as number];
      if (last - first === 1) {
        if (!sameBlocks) classes.fill(candidates[first] as number, line + from, line + to);
        continue;
      }
      for (let x = from; x < to; x++) {
        const right = columns.high[x] as number;
        at.topLeft = (top + left) * channels;
        at.topRight = (top + right) * channels;
        at.bottomLeft = (bottom + left) * channels;
        at.bottomRight = (bottom + right) * channels;
        at.columnWeight = columns.weight[x] as number;
        classes[line + x] = bestAt(scores, candidates, first, last, at);
      }
    }
  }
  return classes;
}
