/**
 * Letterboxing a region into a model input: scale it to fit, keeping its aspect ratio, and
 * pad the rest with black, as the detectors were trained. The scaled size is whole pixels, so
 * the x and y scales actually applied differ from the ideal one (a 2048x200 strip into 128x128
 * becomes 128x13: 0.0625 across, 0.065 down). Boxes map back through the scales of the actual
 * resize, per axis, or they drift off the face.
 */
import type { Sharp } from 'sharp';
import { loadSharp } from '../../image/sharp-module.js';
import type { Point } from './boxes.js';
import type { Region } from './tiling.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Letterbox {
  /** Size of the scaled region inside the model input. */
  readonly innerWidth: number;
  readonly innerHeight: number;
  /** Padding before it, in model-input pixels. */
  readonly left: number;
  readonly top: number;
  /** Model-input pixels per region pixel, per axis. */
  readonly scaleX: number;
  readonly scaleY: number;
}

export function planLetterbox(region: Size, input: Size): Letterbox {
  const scale = Math.min(input.width / region.width, input.height / region.height);
  const innerWidth = Math.min(input.width, Math.max(1, Math.round(region.width * scale)));
  const innerHeight = Math.min(input.height, Math.max(1, Math.round(region.height * scale)));
  return {
    innerWidth,
    innerHeight,
    left: Math.floor((input.width - innerWidth) / 2),
    top: Math.floor((input.height - innerHeight) / 2),
    scaleX: innerWidth / region.width,
    scaleY: innerHeight / region.height,
  };
}

/** A point in model-input pixels back in region pixels. */
export function toRegion(point: Point, box: Letterbox): Point {
  return { x: (point.x - box.left) / box.scaleX, y: (point.y - box.top) / box.scaleY };
}

/**
 * The letterboxing step of a sharp pipeline (whatever it reads, region or whole photo):
 * scaled to `box`'s inner size, padded black to `input`. pose letterboxes the whole photo.
 */
export function fitLetterbox(pipeline: Sharp, box: Letterbox, input: Size): Sharp {
  return pipeline.resize(box.innerWidth, box.innerHeight, { fit: 'fill' }).extend({
    left: box.left,
    top: box.top,
    right: input.width - box.innerWidth - box.left,
    bottom: input.height - box.innerHeight - box.top,
    background: { r: 0, g: 0, b: 0 },
  });
}

/** `region` of an interleaved RGB image, letterboxed into `input`: the model's pixels. */
export async function letterbox(
  rgb: Buffer,
  size: Size,
  region: Region,
  input: Size,
): Promise<{ pixels: Buffer; box: Letterbox }> {
  const box = planLetterbox(region, input);
  const sharp = await loadSharp();
  const regionOnly = sharp(rgb, { raw: { width: size.width, height: size.height, channels: 3 } }).extract(
    region,
  );
  const pixels = await fitLetterbox(regionOnly, box, input).raw().toBuffer();
  return { pixels, box };
}
