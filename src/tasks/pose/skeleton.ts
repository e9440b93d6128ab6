/**
 * The photo with the pose drawn over it: a dot per keypoint the model is sure enough of, and a
 * line per limb whose two ends both are. Left limbs and keypoints cyan, right ones magenta, the
 * rest yellow, so a mirrored pose is plain to see (and no dot is white on a white wall). Drawn with the shared overlay (src/image/overlay.ts).
 */
import { drawOverlay, type Overlay, type PictureFormat } from '../../image/overlay.js';
import { COCO_SKELETON, type Keypoint } from './keypoints.js';

export interface DrawnPose {
  readonly keypoints: readonly Keypoint[];
  readonly threshold: number;
}

const LEFT = '#00e5ff';
const RIGHT = '#ff4081';
const MIDDLE = '#ffea00';

function sideOf(k: Keypoint): string | undefined {
  if (k.name.startsWith('left_')) return LEFT;
  if (k.name.startsWith('right_')) return RIGHT;
  return undefined;
}

/** What is drawn, as lines and dots in photo pixels (pure: tests read it). */
export function skeletonOverlay(pose: DrawnPose): Overlay {
  const shown = (k: Keypoint | undefined): k is Keypoint => k !== undefined && k.score >= pose.threshold;
  const lines = COCO_SKELETON.map(([i, j]) => [pose.keypoints[i], pose.keypoints[j]] as const)
    .filter((pair): pair is readonly [Keypoint, Keypoint] => shown(pair[0]) && shown(pair[1]))
    .map(([a, b]) => {
      const side = sideOf(a);
      return {
        x1: a.x,
        y1: a.y,
        x2: b.x,
        y2: b.y,
        color: side !== undefined && side === sideOf(b) ? side : MIDDLE,
      };
    });
  const dots = pose.keypoints.filter(shown).map((k) => ({ x: k.x, y: k.y, color: sideOf(k) ?? MIDDLE }));
  return { lines, dots };
}

export async function drawPose(
  image: Uint8Array,
  pose: DrawnPose,
  format: PictureFormat,
): Promise<Uint8Array> {
  const out = await drawOverlay(image, skeletonOverlay(pose), format);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
