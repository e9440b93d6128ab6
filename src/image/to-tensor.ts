/**
 * Resizes an opened image to a model's input size and lays its pixels out as the model wants:
 * uint8 or float32, RGB or BGR, normalised with a per-channel mean and standard deviation.
 */
import type { TensorData } from '../engine/types.js';
import type { TfliteFnError } from '../errors.js';
import { type OpenedImage, sharpErrorToTfliteFnError } from './decode.js';

import type { PixelFormat, ResizeMode } from './layout.js';

export { type PixelFormat, RESIZE_MODES, type ResizeMode } from './layout.js';

export interface TensorLayout {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  /** Per channel, in RGB order, subtracted before dividing by `std` (float formats only). */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** The centred region of `width` x `height` that has the aspect ratio of `target`. */
export function centreCrop(
  width: number,
  height: number,
  target: { width: number; height: number },
): { left: number; top: number; width: number; height: number } {
  const cropWidth = Math.min(width, Math.max(1, Math.round((height * target.width) / target.height)));
  const cropHeight = Math.min(height, Math.max(1, Math.round((width * target.height) / target.width)));
  return {
    left: Math.floor((width - cropWidth) / 2),
    top: Math.floor((height - cropHeight) / 2),
    width: cropWidth,
    height: cropHeight,
  };
}

/** Resizes and returns interleaved 8-bit RGB of exactly width x height x 3. */
export async function resizeToRgb(
  image: OpenedImage,
  width: number,
  height: number,
  mode: ResizeMode,
  /** lanczos3 (sharp's default) for our models; others where a program expects another filter. */
  kernel: 'lanczos3' | 'linear' | 'mitchell' = 'lanczos3',
): Promise<Uint8Array> {
  try {
    let pipeline = image.pipeline.clone();
    // Cover crops first and then scales only what is kept. Scaling the whole image and
    // cropping after (sharp's `fit: cover`) enlarges a 1x1000000 image to 224x224000000 on
    // the way, past libvips's coordinate range, and blends cut-away pixels into the edges.
    if (mode === 'cover')
      pipeline = pipeline.extract(centreCrop(image.uprightWidth, image.uprightHeight, { width, height }));
    const { data, info } = await pipeline
      .resize(width, height, { fit: 'fill', kernel })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== width * height * 3) {
      throw new Error(`unexpected pixel layout: ${info.width}x${info.height}x${info.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause, image.format) satisfies TfliteFnError;
  }
}

/** Turns interleaved RGB bytes into the tensor data a model input takes. */
export function rgbToTensor(rgb: Uint8Array, layout: TensorLayout): TensorData {
  const bgr = layout.format.startsWith('bgr');
  if (layout.format === 'rgb8') return rgb;
  if (layout.format === 'bgr8') {
    const out = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) {
      out[i] = rgb[i + 2] as number;
      out[i + 1] = rgb[i + 1] as number;
      out[i + 2] = rgb[i] as number;
    }
    return out;
  }
  const out = new Float32Array(rgb.length);
  const [m0, m1, m2] = layout.mean;
  const [s0, s1, s2] = layout.std;
  for (let i = 0; i < rgb.length; i += 3) {
    const r = ((rgb[i] as number) - m0) / s0;
    const g = ((rgb[i + 1] as number) - m1) / s1;
    const b = ((rgb[i + 2] as number) - m2) / s2;
    out[i] = bgr ? b : r;
    out[i + 1] = g;
    out[i + 2] = bgr ? r : b;
  }
  return out;
}
