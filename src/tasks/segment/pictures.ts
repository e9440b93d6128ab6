/**
 * segment's pictures, all at the photo's upright size: the mask, the cut-out (background made
 * transparent) and the photo with the mask tinted over it. The mask is scaled from the
 * model's size to the photo's by stretching, the inverse of how the photo was fitted to the
 * model (`fill`), so every mask pixel lands back on the photo pixels it was computed from.
 * Image decoding and drawing load on first use (see src/tasks/index.ts).
 */
import type { Sharp } from 'sharp';
import { assertPictureSize } from '../../image/picture-limit.js';
import { loadSharp } from '../../image/sharp-module.js';
import { DECODE_TIMEOUT_SECONDS } from '../../image/work-limits.js';
import type { PictureRenderer } from '../task.js';
import { classColour, type Rgb } from './palette.js';
import type { Segmentation } from './result.js';

/** How strongly the overlay tints a fully kept pixel: the photo stays readable under it. */
const TINT_OPACITY = 0.55;
/** Probability models have one class: a bright tint that shows on dark clothes and skin alike. */
const FOREGROUND_TINT: Rgb = [255, 64, 160];

/**
 * Runs a sharp job drawing a picture of the photo's size (refused first if the photo is over
 * the picture limit); any failure becomes a TfliteFnError.
 */
async function drawing<T>(result: Segmentation, draw: () => Promise<T>): Promise<T> {
  assertPictureSize(result.image.width, result.image.height);
  try {
    return await draw();
  } catch (cause) {
    throw (await import('../../image/decode.js')).drawingErrorToTfliteFnError(cause);
  }
}

/**
 * Per-pixel bytes at the mask's size scaled to the photo's size. `nearest` keeps class colours
 * exact (a colour is a class); `linear` gives the alpha and tint smooth edges.
 */
async function scaledToPhoto(
  bytes: Uint8Array,
  channels: 1 | 3 | 4,
  result: Segmentation,
  kernel: 'nearest' | 'linear',
): Promise<Sharp> {
  const sharp = await loadSharp();
  const scaled = sharp(bytes, { raw: { width: result.mask.width, height: result.mask.height, channels } })
    .resize(result.image.width, result.image.height, { fit: 'fill', kernel })
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS });
  // One channel stays one: sharp would otherwise hand back sRGB, three bytes per pixel.
  return channels === 1 ? scaled.toColourspace('b-w') : scaled;
}

function colouredClasses(result: Segmentation): Uint8Array {
  const { classes } = result.pixels;
  const rgb = new Uint8Array(classes.length * 3);
  for (let i = 0; i < classes.length; i++) rgb.set(classColour(classes[i] as number), i * 3);
  return rgb;
}

/** Class colours (class models) or the cut-out's alpha as grey (probability models). */
async function renderMask(_image: Uint8Array, result: Segmentation): Promise<Uint8Array> {
  return drawing(result, async () => {
    const scaled =
      result.mask.kind === 'classes'
        ? await scaledToPhoto(colouredClasses(result), 3, result, 'nearest')
        : await scaledToPhoto(result.pixels.alpha, 1, result, 'linear');
    return scaled.png().toBuffer();
  });
}

/**
 * The photo (its upright pixels, as the model saw them, BMP included) with the cut-out's alpha.
 * Composited on the decoding pipeline, so the photo streams through in strips instead of being
 * held whole in a buffer first (192 MB at 64 MP). `dest-in` keeps the photo as opaque as the
 * layer is; the layer is grey + alpha (the grey unused), the smallest layer with an alpha.
 */
async function renderCutout(image: Uint8Array, result: Segmentation): Promise<Uint8Array> {
  return drawing(result, async () => {
    const alpha = await (await scaledToPhoto(result.pixels.alpha, 1, result, 'linear')).raw().toBuffer();
    const layer = Buffer.alloc(alpha.length * 2);
    for (let i = 0; i < alpha.length; i++) layer[2 * i + 1] = alpha[i] as number;
    const { openImage } = await import('../../image/decode.js');
    const opened = await openImage(image);
    const { width, height } = result.image;
    return opened.pipeline
      .clone()
      .composite([{ input: layer, raw: { width, height, channels: 2 }, blend: 'dest-in' }])
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
      .png()
      .toBuffer();
  });
}

/**
 * Kept pixels tinted with their class colour (probability models: the foreground colour),
 * as strongly as the cut-out keeps them; the rest of the photo as it is.
 */
function tint(result: Segmentation): Uint8Array {
  const { classes, alpha } = result.pixels;
  const rgba = new Uint8Array(classes.length * 4);
  const foreground = FOREGROUND_TINT;
  for (let i = 0; i < classes.length; i++) {
    const opacity = alpha[i] as number;
    if (opacity === 0) continue;
    rgba.set(result.mask.kind === 'classes' ? classColour(classes[i] as number) : foreground, i * 4);
    rgba[i * 4 + 3] = Math.round(opacity * TINT_OPACITY);
  }
  return rgba;
}

async function renderOverlay(image: Uint8Array, result: Segmentation): Promise<Uint8Array> {
  const mask = { rgba: tint(result), width: result.mask.width, height: result.mask.height, smooth: true };
  const { drawOverlay } = await import('../../image/overlay.js');
  return drawOverlay(image, { mask }, 'jpeg');
}

/** By format name; the first answers Accept: image/*. */
export const SEGMENT_PICTURES: Readonly<Record<string, PictureRenderer<Segmentation>>> = {
  mask: {
    contentType: 'image/png',
    describes: 'the mask: class colours (PASCAL VOC colours) or, for one-class models, foreground as white',
    render: renderMask,
  },
  cutout: {
    contentType: 'image/png',
    describes: 'the photo with its background transparent (PNG with alpha)',
    render: renderCutout,
  },
  overlay: {
    contentType: 'image/jpeg',
    describes: 'the photo with the kept classes tinted in their mask colours',
    render: renderOverlay,
  },
};
