/**
 * MoveNet's output as keypoints in the photo's own pixels.
 *
 * MoveNet (single pose) answers one tensor of shape [1, 1, 17, 3]: per keypoint (y, x, score),
 * y and x as fractions of the model's input frame. Our input frame is the photo letterboxed
 * into a square (see letterbox-photo.ts), so a point is first taken to input pixels, then back
 * through the padding and the per-axis scale of the actual resize, into the upright photo.
 */
import { type Letterbox, toRegion } from '../detect/letterbox.js';

/** COCO's 17 keypoints, in the order MoveNet (and every COCO-trained pose model) emits them. */
export const COCO_KEYPOINTS = [
  'nose',
  'left_eye',
  'right_eye',
  'left_ear',
  'right_ear',
  'left_shoulder',
  'right_shoulder',
  'left_elbow',
  'right_elbow',
  'left_wrist',
  'right_wrist',
  'left_hip',
  'right_hip',
  'left_knee',
  'right_knee',
  'left_ankle',
  'right_ankle',
] as const;

export type KeypointName = (typeof COCO_KEYPOINTS)[number];

/** The limbs drawn between keypoints (COCO's skeleton, by keypoint index). */
export const COCO_SKELETON: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 2],
  [1, 3],
  [2, 4],
  [5, 6],
  [5, 7],
  [7, 9],
  [6, 8],
  [8, 10],
  [5, 11],
  [6, 12],
  [11, 12],
  [11, 13],
  [13, 15],
  [12, 14],
  [14, 16],
];

export interface Keypoint {
  readonly name: KeypointName;
  /** Upright photo pixels, 0.1 px. */
  readonly x: number;
  readonly y: number;
  /** The model's confidence for this keypoint, in [0, 1], 4 decimals. */
  readonly score: number;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function clamp(value: number, max: number): number {
  return Math.min(max, Math.max(0, value));
}

/**
 * (y, x, score) triples, normalised to a `input` frame that holds the photo as `box` says,
 * as keypoints in photo pixels. A point the model puts in the padding is clamped to the
 * photo's edge: it is still the model's best guess, and the photo has nothing beyond it.
 */
export function decodeKeypoints(
  output: Float32Array,
  input: { readonly width: number; readonly height: number },
  box: Letterbox,
  photo: { readonly width: number; readonly height: number },
): Keypoint[] {
  return COCO_KEYPOINTS.map((name, k) => {
    const y = output[3 * k] as number;
    const x = output[3 * k + 1] as number;
    const score = output[3 * k + 2] as number;
    const inPhoto = toRegion({ x: x * input.width, y: y * input.height }, box);
    return {
      name,
      x: round(clamp(inPhoto.x, photo.width), 1),
      y: round(clamp(inPhoto.y, photo.height), 1),
      score: round(clamp(score, 1), 4),
    };
  });
}

/**
 * MoveNet has no pose score of its own; the mean of the keypoint scores is the usual stand-in
 * (a person half out of frame or absent scores low).
 */
export function poseScore(keypoints: readonly Keypoint[]): number {
  if (keypoints.length === 0) return 0;
  return round(keypoints.reduce((sum, k) => sum + k.score, 0) / keypoints.length, 4);
}
