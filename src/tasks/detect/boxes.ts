/**
 * Turning raw detector outputs into faces: decode each anchor's regressors, keep the scores
 * above the threshold, and merge overlapping boxes by weighted non-maximum suppression (the
 * score-weighted mean of each cluster, which is steadier than keeping one box).
 */
import type { Anchor } from './anchors.js';

export interface Point {
  x: number;
  y: number;
}

/** A box as corners, in whatever space the caller uses (model input, normalised, or pixels). */
export interface Detection {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  score: number;
  keypoints: Point[];
}

export interface DecodeSpec {
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly keypoints: number;
  readonly minScore: number;
}

function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, value))));
}

/** Boxes in the model input's normalised space [0, 1], one per anchor that scores enough. */
export function decodeDetections(
  regressors: Float32Array,
  scores: Float32Array,
  anchors: readonly Anchor[],
  spec: DecodeSpec,
): Detection[] {
  const stride = regressors.length / anchors.length;
  const detections: Detection[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const score = sigmoid(scores[i] as number);
    if (score < spec.minScore) continue;
    const anchor = anchors[i] as Anchor;
    const r = i * stride;
    const cx = (regressors[r] as number) / spec.inputWidth + anchor.x;
    const cy = (regressors[r + 1] as number) / spec.inputHeight + anchor.y;
    const w = (regressors[r + 2] as number) / spec.inputWidth;
    const h = (regressors[r + 3] as number) / spec.inputHeight;
    const keypoints: Point[] = [];
    for (let k = 0; k < spec.keypoints; k++) {
      keypoints.push({
        x: (regressors[r + 4 + 2 * k] as number) / spec.inputWidth + anchor.x,
        y: (regressors[r + 5 + 2 * k] as number) / spec.inputHeight + anchor.y,
      });
    }
    detections.push({
      xmin: cx - w / 2,
      ymin: cy - h / 2,
      xmax: cx + w / 2,
      ymax: cy + h / 2,
      score,
      keypoints,
    });
  }
  return detections;
}

export function iou(a: Detection, b: Detection): number {
  const width = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin);
  const height = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - intersection;
  return union > 0 ? intersection / union : 0;
}

/** Weighted NMS: each cluster of boxes overlapping the best one becomes their weighted mean. */
export function weightedNms(detections: readonly Detection[], iouThreshold: number): Detection[] {
  const remaining = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  while (remaining.length > 0) {
    const best = remaining[0] as Detection;
    const cluster: Detection[] = [];
    for (let i = remaining.length - 1; i >= 0; i--) {
      if (iou(best, remaining[i] as Detection) > iouThreshold || i === 0) {
        cluster.push(remaining[i] as Detection);
        remaining.splice(i, 1);
      }
    }
    const total = cluster.reduce((sum, d) => sum + d.score, 0);
    const mean = (pick: (d: Detection) => number) =>
      cluster.reduce((sum, d) => sum + pick(d) * d.score, 0) / total;
    kept.push({
      xmin: mean((d) => d.xmin),
      ymin: mean((d) => d.ymin),
      xmax: mean((d) => d.xmax),
      ymax: mean((d) => d.ymax),
      score: best.score,
      keypoints: best.keypoints.map((_, k) => ({
        x: mean((d) => (d.keypoints[k] as Point).x),
        y: mean((d) => (d.keypoints[k] as Point).y),
      })),
    });
  }
  return kept;
}
