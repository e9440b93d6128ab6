/**
 * Finding faces in an opened photo: boxes, scores and landmarks in the photo's own pixels
 * (after EXIF orientation). Large photos are searched tile by tile (see tiling.ts), and the
 * boxes from every pass are merged by one final weighted NMS.
 */
import type { OutputInfo } from 'sharp';
import { sharpErrorToTfliteFnError } from '../../image/decode.js';
import { rgbToTensor } from '../../image/to-tensor.js';
import type { InferContext } from '../task.js';
import { type Detection, decodeDetections, type Point, weightedNms } from './boxes.js';
import type { DetectState } from './check.js';
import { type Letterbox, letterbox, toRegion } from './letterbox.js';
import type { Detections, DetectTaskOptions, Face } from './result.js';
import { detectSectionOf } from './section.js';
import { planTiles, type Region } from './tiling.js';

/** Larger photos are scaled down to this longest side first: faces stay big enough, work stays bounded. */
const WORKING_SIDE = 2048;

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Runs the model on one region, returning boxes in working-image pixels. */
async function detectRegion(
  rgb: Buffer,
  size: { width: number; height: number },
  region: Region,
  context: InferContext<DetectState>,
): Promise<Detection[]> {
  const { model } = context;
  const { width: inputWidth, height: inputHeight } = model.layout;
  const tensor = await context.preparing(async () => {
    let pixels: Buffer;
    let box: Letterbox;
    try {
      ({ pixels, box } = await letterbox(rgb, size, region, { width: inputWidth, height: inputHeight }));
    } catch (cause) {
      throw sharpErrorToTfliteFnError(cause);
    }
    return {
      data: rgbToTensor(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length), model.layout),
      box,
    };
  });
  const outputs = await context.run(tensor.data);

  const spec = detectSectionOf(model.descriptor);
  const raw = decodeDetections(
    outputs[model.state.regressorsIndex] as Float32Array,
    outputs[model.state.scoresIndex] as Float32Array,
    model.state.anchors,
    { inputWidth, inputHeight, keypoints: spec.keypoints, minScore: spec.min_score },
  );
  const toImage = (p: Point): Point => {
    const inRegion = toRegion({ x: p.x * inputWidth, y: p.y * inputHeight }, tensor.box);
    return { x: region.left + inRegion.x, y: region.top + inRegion.y };
  };
  return raw.map((d) => {
    const min = toImage({ x: d.xmin, y: d.ymin });
    const max = toImage({ x: d.xmax, y: d.ymax });
    return {
      xmin: min.x,
      ymin: min.y,
      xmax: max.x,
      ymax: max.y,
      score: d.score,
      keypoints: d.keypoints.map(toImage),
    };
  });
}

/**
 * A face cut by a tile edge is found as a partial box in that tile; it should not survive
 * beside the whole face found in a neighbouring tile. Boxes touching an inner tile edge are
 * dropped when another pass saw them whole.
 */
function touchesInnerEdge(d: Detection, region: Region, size: { width: number; height: number }): boolean {
  const margin = 2;
  return (
    (region.left > 0 && d.xmin <= region.left + margin) ||
    (region.top > 0 && d.ymin <= region.top + margin) ||
    (region.left + region.width < size.width && d.xmax >= region.left + region.width - margin) ||
    (region.top + region.height < size.height && d.ymax >= region.top + region.height - margin)
  );
}

export async function findFaces(
  context: InferContext<DetectState>,
  options: DetectTaskOptions,
): Promise<Omit<Detections, 'model' | 'engine' | 'image' | 'timings'>> {
  const { photo, model } = context;
  const decoded: { data: Buffer; info: OutputInfo } = await context.preparing(async () => {
    try {
      return await photo.pipeline
        .clone()
        .resize(WORKING_SIDE, WORKING_SIDE, { fit: 'inside', withoutEnlargement: true })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
    } catch (cause) {
      throw sharpErrorToTfliteFnError(cause, photo.format);
    }
  });
  // How much the working copy was scaled down from the upright photo, per axis: the working
  // size is whole pixels, so a 100000x10 photo becomes 2048x1, 48.8 across but 10 down.
  const factorX = photo.uprightWidth / decoded.info.width;
  const factorY = photo.uprightHeight / decoded.info.height;

  const size = { width: decoded.info.width, height: decoded.info.height };
  const plan = planTiles(size.width, size.height, model.layout.width, options.tiling ?? true);
  const perRegion = await Promise.all(
    plan.regions.map((region) => detectRegion(decoded.data, size, region, context)),
  );
  const candidates = perRegion.flatMap((found, i) => {
    const region = plan.regions[i] as Region;
    return i === 0 ? found : found.filter((d) => !touchesInnerEdge(d, region, size));
  });
  const merged = weightedNms(candidates, detectSectionOf(model.descriptor).iou_threshold);

  const faces: Face[] = merged
    .map((d) => ({
      box: {
        x: round(Math.max(0, d.xmin * factorX)),
        y: round(Math.max(0, d.ymin * factorY)),
        width: round((Math.min(size.width, d.xmax) - Math.max(0, d.xmin)) * factorX),
        height: round((Math.min(size.height, d.ymax) - Math.max(0, d.ymin)) * factorY),
      },
      score: round(d.score, 4),
      landmarks: d.keypoints.map((p) => ({ x: round(p.x * factorX), y: round(p.y * factorY) })),
    }))
    .sort((a, b) => a.box.x - b.box.x || a.box.y - b.box.y);
  return {
    faces,
    tiling: { passes: plan.regions.length, tile: Math.round(plan.tile * factorX), overlap: plan.overlap },
  };
}
