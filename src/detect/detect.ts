/**
 * detect(image bytes) → the faces in it: boxes, scores and landmarks in the photo's own pixels
 * (after EXIF orientation). Large photos are searched tile by tile (see tiling.ts), and the
 * boxes from every pass are merged by one final weighted NMS.
 */
import type { OutputInfo } from 'sharp';
import {
  defaultImageLimits,
  type ImageLimits,
  openImage,
  sharpErrorToTfliteFnError,
} from '../image/decode.js';
import { rgbToTensor } from '../image/to-tensor.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { type Detection, decodeDetections, type Point, weightedNms } from './boxes.js';
import { type Letterbox, letterbox, toRegion } from './letterbox.js';
import type { LoadedDetector } from './loaded-detector.js';
import { planTiles, type Region } from './tiling.js';

export const DEFAULT_DETECT_MODEL = 'faces';

/** Larger photos are scaled down to this longest side first: faces stay big enough, work stays bounded. */
const WORKING_SIDE = 2048;

export interface DetectOptions {
  readonly model?: string | undefined;
  /** Search overlapping tiles of large photos too (default true). */
  readonly tiling?: boolean | undefined;
  readonly catalog?: ModelCatalog | undefined;
  readonly limits?: ImageLimits | undefined;
}

export interface Face {
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly score: number;
  /** BlazeFace order: right eye, left eye, nose tip, mouth, right ear tragion, left ear tragion. */
  readonly landmarks: readonly Point[];
}

export interface Detections {
  readonly model: string;
  readonly engine: string;
  readonly faces: readonly Face[];
  readonly image: { readonly format: string; readonly width: number; readonly height: number };
  readonly tiling: { readonly passes: number; readonly tile: number; readonly overlap: number };
  readonly timings: { readonly decodeMs: number; readonly inferenceMs: number; readonly totalMs: number };
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Runs the model on one region, returning boxes in working-image pixels. */
async function detectRegion(
  rgb: Buffer,
  size: { width: number; height: number },
  region: Region,
  model: LoadedDetector,
  timing: { decodeMs: number; inferenceMs: number },
): Promise<Detection[]> {
  const { width: inputWidth, height: inputHeight } = model.layout;
  const prepared = performance.now();
  let pixels: Buffer;
  let box: Letterbox;
  try {
    ({ pixels, box } = await letterbox(rgb, size, region, { width: inputWidth, height: inputHeight }));
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause);
  }
  const tensor = rgbToTensor(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length), model.layout);
  timing.decodeMs += performance.now() - prepared;

  const inferred = performance.now();
  const outputs = await model.engine.run([tensor]);
  timing.inferenceMs += performance.now() - inferred;

  const spec = model.descriptor.detect;
  const raw = decodeDetections(
    outputs[model.regressorsIndex] as Float32Array,
    outputs[model.scoresIndex] as Float32Array,
    model.anchors,
    { inputWidth, inputHeight, keypoints: spec.keypoints, minScore: spec.min_score },
  );
  const toImage = (p: Point): Point => {
    const inRegion = toRegion({ x: p.x * inputWidth, y: p.y * inputHeight }, box);
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

export async function detect(image: Uint8Array, options: DetectOptions = {}): Promise<Detections> {
  const started = performance.now();
  const catalog = options.catalog ?? defaultCatalog();
  const id = options.model ?? DEFAULT_DETECT_MODEL;
  const loading = catalog.loadDetector(id);
  loading.catch(() => undefined);

  const timing = { decodeMs: 0, inferenceMs: 0 };
  const decodeStarted = performance.now();
  const opened = await openImage(image, options.limits ?? defaultImageLimits());
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await opened.pipeline
      .clone()
      .resize(WORKING_SIDE, WORKING_SIDE, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause, opened.format);
  }
  // How much the working copy was scaled down from the upright photo, per axis: the working
  // size is whole pixels, so a 100000x10 photo becomes 2048x1, 48.8 across but 10 down.
  const factorX = opened.uprightWidth / decoded.info.width;
  const factorY = opened.uprightHeight / decoded.info.height;
  timing.decodeMs += performance.now() - decodeStarted;

  const model = await loading;
  const size = { width: decoded.info.width, height: decoded.info.height };
  const plan = planTiles(size.width, size.height, model.layout.width, options.tiling ?? true);
  const perRegion = await Promise.all(
    plan.regions.map((region) => detectRegion(decoded.data, size, region, model, timing)),
  );
  const candidates = perRegion.flatMap((found, i) => {
    const region = plan.regions[i] as Region;
    return i === 0 ? found : found.filter((d) => !touchesInnerEdge(d, region, size));
  });
  const merged = weightedNms(candidates, model.descriptor.detect.iou_threshold);

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
    model: id,
    engine: model.engineName,
    faces,
    image: { format: opened.format, width: opened.uprightWidth, height: opened.uprightHeight },
    tiling: { passes: plan.regions.length, tile: Math.round(plan.tile * factorX), overlap: plan.overlap },
    timings: {
      decodeMs: round(timing.decodeMs, 2),
      inferenceMs: round(timing.inferenceMs, 2),
      totalMs: round(performance.now() - started, 2),
    },
  };
}
