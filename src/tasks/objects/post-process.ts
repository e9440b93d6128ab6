/**
 * TFLite_Detection_PostProcess, in TypeScript: what the SSD model's last (custom) operator does,
 * which LiteRT.js cannot run (its outputs have shapes known only at run time). The graph is cut
 * at the operator's two inputs; this module takes those tensors (dequantized) and the
 * operator's own settings, read from the model (see ./model-settings.ts), and gives the same
 * detections: boxes decoded against the anchors with the operator's scales, then non-maximum
 * suppression, either the fast multi-class kind (one NMS over each anchor's best class) or the
 * regular kind (one NMS per class), as the operator's `use_regular_nms` says.
 *
 * Followed here, from TensorFlow Lite's kernel (detection_postprocess.cc), because results must
 * match what the model gives under TFLite: a box encoding is [y, x, h, w] in centre-size form;
 * `scores >= threshold` is kept; sorting by score is stable (ties keep anchor order); a box
 * suppresses a later one when their IoU is strictly above the threshold; a box of zero or
 * negative area overlaps nothing; the first `num_classes_with_background - num_classes` score
 * columns (the background) are skipped.
 */

/** The operator's settings (its custom options) and its constant input, the anchors. */
export interface PostProcessSettings {
  /** Centre-size anchors [y, x, h, w] per anchor, normalised to the model input. */
  readonly anchors: Float32Array;
  /** Divisors of the encoded centre (y, x) and log-size (h, w). */
  readonly scales: { readonly y: number; readonly x: number; readonly h: number; readonly w: number };
  /** Classes without the background. */
  readonly numClasses: number;
  readonly maxDetections: number;
  readonly maxClassesPerDetection: number;
  readonly detectionsPerClass: number;
  readonly useRegularNms: boolean;
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
}

/** One detection: a box in the model input's normalised space, [0, 1] (may overhang). */
export interface RawDetection {
  readonly ymin: number;
  readonly xmin: number;
  readonly ymax: number;
  readonly xmax: number;
  /** 0-based class index, background excluded (line i of the labels file). */
  readonly classIndex: number;
  readonly score: number;
}

/** How a call differs from the model's own settings: the caller's threshold and count. */
export interface PostProcessRequest {
  /** Detections scoring below this are dropped (the model's own threshold still applies). */
  readonly minScore: number;
  readonly maxDetections: number;
}

/** Decoded corners [ymin, xmin, ymax, xmax] per anchor. */
export function decodeBoxes(
  encodings: Float32Array,
  coordinatesPerBox: number,
  settings: Pick<PostProcessSettings, 'anchors' | 'scales'>,
): Float32Array {
  const { anchors, scales } = settings;
  const count = anchors.length / 4;
  const boxes = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const e = i * coordinatesPerBox;
    const a = i * 4;
    const anchorH = anchors[a + 2] as number;
    const anchorW = anchors[a + 3] as number;
    const yCentre = ((encodings[e] as number) / scales.y) * anchorH + (anchors[a] as number);
    const xCentre = ((encodings[e + 1] as number) / scales.x) * anchorW + (anchors[a + 1] as number);
    const halfH = 0.5 * Math.exp((encodings[e + 2] as number) / scales.h) * anchorH;
    const halfW = 0.5 * Math.exp((encodings[e + 3] as number) / scales.w) * anchorW;
    boxes[a] = yCentre - halfH;
    boxes[a + 1] = xCentre - halfW;
    boxes[a + 2] = yCentre + halfH;
    boxes[a + 3] = xCentre + halfW;
  }
  return boxes;
}

/** Intersection over union of boxes i and j; 0 when either has no area (as TFLite's kernel). */
export function boxIou(boxes: Float32Array, i: number, j: number): number {
  const a = i * 4;
  const b = j * 4;
  const areaA =
    ((boxes[a + 2] as number) - (boxes[a] as number)) * ((boxes[a + 3] as number) - (boxes[a + 1] as number));
  const areaB =
    ((boxes[b + 2] as number) - (boxes[b] as number)) * ((boxes[b + 3] as number) - (boxes[b + 1] as number));
  if (areaA <= 0 || areaB <= 0) return 0;
  const ymin = Math.max(boxes[a] as number, boxes[b] as number);
  const xmin = Math.max(boxes[a + 1] as number, boxes[b + 1] as number);
  const ymax = Math.min(boxes[a + 2] as number, boxes[b + 2] as number);
  const xmax = Math.min(boxes[a + 3] as number, boxes[b + 3] as number);
  const intersection = Math.max(0, ymax - ymin) * Math.max(0, xmax - xmin);
  return intersection / (areaA + areaB - intersection);
}

/**
 * Greedy NMS over one score per box: the boxes kept, best first, at most `limit`. Only boxes
 * scoring at least `threshold` take part; raising the threshold therefore never changes which
 * of the better boxes survive (a box only suppresses worse ones).
 */
export function nmsOneClass(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  threshold: number,
  iouThreshold: number,
  limit: number,
): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) >= threshold) candidates.push(i);
  // Array.prototype.sort is stable: equal scores keep anchor order, as TFLite's stable_sort.
  candidates.sort((i, j) => (scores[j] as number) - (scores[i] as number));
  const selected: number[] = [];
  const active = new Uint8Array(candidates.length).fill(1);
  for (let c = 0; c < candidates.length && selected.length < limit; c++) {
    if (!active[c]) continue;
    const box = candidates[c] as number;
    selected.push(box);
    for (let d = c + 1; d < candidates.length; d++) {
      if (active[d] && boxIou(boxes, box, candidates[d] as number) > iouThreshold) active[d] = 0;
    }
  }
  return selected;
}

/** The score columns per anchor and where the first real class starts. */
function classLayout(scores: Float32Array, anchorCount: number, numClasses: number) {
  const columns = scores.length / anchorCount;
  return { columns, offset: columns - numClasses };
}

/**
 * Fast multi-class NMS: each anchor is ranked by its best class, one NMS over those ranks, and
 * each kept anchor reports its `maxClassesPerDetection` best classes.
 */
function fastNms(
  boxes: Float32Array,
  scores: Float32Array,
  settings: PostProcessSettings,
  request: PostProcessRequest,
): RawDetection[] {
  const anchorCount = boxes.length / 4;
  const { columns, offset } = classLayout(scores, anchorCount, settings.numClasses);
  const perAnchor = Math.min(settings.maxClassesPerDetection, settings.numClasses);
  const topClasses: number[][] = [];
  const best = new Float32Array(anchorCount);
  for (let anchor = 0; anchor < anchorCount; anchor++) {
    const row = anchor * columns + offset;
    const classes = topK(scores, row, settings.numClasses, perAnchor);
    topClasses.push(classes);
    best[anchor] = scores[row + (classes[0] as number)] as number;
  }
  const threshold = Math.max(settings.scoreThreshold, request.minScore);
  const kept = nmsOneClass(boxes, best, threshold, settings.iouThreshold, request.maxDetections);
  const detections: RawDetection[] = [];
  for (const anchor of kept) {
    for (const classIndex of topClasses[anchor] as number[]) {
      const score = scores[anchor * columns + offset + classIndex] as number;
      // Second-best classes are reported by TFLite whatever their score; a caller's threshold
      // is a promise about every detection returned, so it applies to them too.
      if (score >= request.minScore) detections.push(detection(boxes, anchor, classIndex, score));
    }
  }
  // With several classes per box, a box's second class may score below the next box's first.
  return detections.sort((a, b) => b.score - a.score).slice(0, request.maxDetections);
}

/** Indices (relative to `start`) of the k largest of `count` values, largest first, stable. */
function topK(values: Float32Array, start: number, count: number, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < count; i++) {
    const value = values[start + i] as number;
    let at = top.length;
    while (at > 0 && (values[start + (top[at - 1] as number)] as number) < value) at--;
    if (at < k) {
      top.splice(at, 0, i);
      if (top.length > k) top.pop();
    }
  }
  return top;
}

/** Regular NMS: one NMS per class (at most detectionsPerClass each), then the best overall. */
function regularNms(
  boxes: Float32Array,
  scores: Float32Array,
  settings: PostProcessSettings,
  request: PostProcessRequest,
): RawDetection[] {
  const anchorCount = boxes.length / 4;
  const { columns, offset } = classLayout(scores, anchorCount, settings.numClasses);
  const perClassLimit = Math.min(settings.detectionsPerClass, request.maxDetections);
  const threshold = Math.max(settings.scoreThreshold, request.minScore);
  const classScores = new Float32Array(anchorCount);
  const found: RawDetection[] = [];
  for (let classIndex = 0; classIndex < settings.numClasses; classIndex++) {
    for (let anchor = 0; anchor < anchorCount; anchor++) {
      classScores[anchor] = scores[anchor * columns + offset + classIndex] as number;
    }
    for (const anchor of nmsOneClass(boxes, classScores, threshold, settings.iouThreshold, perClassLimit)) {
      found.push(detection(boxes, anchor, classIndex, classScores[anchor] as number));
    }
  }
  // Stable: equal scores stay in class order, then anchor order.
  return found.sort((a, b) => b.score - a.score).slice(0, request.maxDetections);
}

function detection(boxes: Float32Array, anchor: number, classIndex: number, score: number): RawDetection {
  const a = anchor * 4;
  return {
    ymin: boxes[a] as number,
    xmin: boxes[a + 1] as number,
    ymax: boxes[a + 2] as number,
    xmax: boxes[a + 3] as number,
    classIndex,
    score,
  };
}

/**
 * The operator's work: box encodings [anchors x coordinates] and class scores [anchors x
 * classes with background], both dequantized, in; detections, best first, out.
 */
export function postProcess(
  encodings: Float32Array,
  scores: Float32Array,
  settings: PostProcessSettings,
  request: PostProcessRequest,
): RawDetection[] {
  const anchorCount = settings.anchors.length / 4;
  const boxes = decodeBoxes(encodings, encodings.length / anchorCount, settings);
  return settings.useRegularNms
    ? regularNms(boxes, scores, settings, request)
    : fastNms(boxes, scores, settings, request);
}
