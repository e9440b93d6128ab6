/**
 * The photo with the pose drawn over it: a dot per keypoint the model is sure enough of, and a
 * line per limb whose two ends both are. Left limbs cyan, right limbs magenta, the rest
 * yellow, so a mirrored pose is plain to see. Drawn as an SVG overlay at the photo's own size.
 */
import sharp from 'sharp';
import { openImage, sharpErrorToTfliteFnError } from '../../image/decode.js';
import { DECODE_TIMEOUT_SECONDS } from '../../image/work-limits.js';
import { COCO_SKELETON, type Keypoint } from './keypoints.js';

export interface DrawnPose {
  readonly image: { readonly width: number; readonly height: number };
  readonly keypoints: readonly Keypoint[];
  readonly threshold: number;
}

function colourOf(a: Keypoint, b: Keypoint): string {
  if (a.name.startsWith('left_') && b.name.startsWith('left_')) return '#00e5ff';
  if (a.name.startsWith('right_') && b.name.startsWith('right_')) return '#ff4081';
  return '#ffea00';
}

/** The overlay alone, as SVG text (pure: tests read it). */
export function skeletonSvg(pose: DrawnPose): string {
  const { width, height } = pose.image;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 150));
  const shown = (k: Keypoint | undefined): k is Keypoint => k !== undefined && k.score >= pose.threshold;
  const limbs = COCO_SKELETON.map(([i, j]) => [pose.keypoints[i], pose.keypoints[j]] as const)
    .filter((pair): pair is readonly [Keypoint, Keypoint] => shown(pair[0]) && shown(pair[1]))
    .map(
      ([a, b]) =>
        `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${colourOf(a, b)}" stroke-width="${stroke}" stroke-linecap="round"/>`,
    );
  const dots = pose.keypoints
    .filter(shown)
    .map(
      (k) =>
        `<circle cx="${k.x}" cy="${k.y}" r="${stroke * 1.5}" fill="#ffffff" stroke="#000000" stroke-width="${Math.max(1, stroke / 2)}"/>`,
    );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${limbs.join('')}${dots.join('')}</svg>`;
}

/** The photo as received (upright, BMP included) with the skeleton composited over it. */
export async function drawPose(
  image: Uint8Array,
  pose: DrawnPose,
  format: 'jpeg' | 'png',
): Promise<Uint8Array> {
  const svg = skeletonSvg(pose);
  try {
    const opened = await openImage(image);
    const base = await opened.pipeline.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const composed = sharp(base.data, {
      raw: { width: base.info.width, height: base.info.height, channels: 3 },
    })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      // Re-encoding a photo at full size costs as much as decoding it: the same backstop.
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS });
    const out =
      format === 'png' ? await composed.png().toBuffer() : await composed.jpeg({ quality: 90 }).toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause);
  }
}
