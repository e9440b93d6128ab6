/**
 * The photo with a box around every face and dots on the landmarks, like WasmEdge's MTCNN
 * example returns. Drawn as an SVG overlay composited by sharp, at the photo's own size.
 */
import sharp from 'sharp';
import { openImage, sharpErrorToTfliteFnError } from '../image/decode.js';
import { DECODE_TIMEOUT_SECONDS } from '../image/work-limits.js';
import type { Detections } from './detect.js';

export type AnnotatedFormat = 'jpeg' | 'png';

export async function annotate(
  image: Uint8Array,
  detections: Detections,
  format: AnnotatedFormat = 'jpeg',
): Promise<Buffer> {
  const { width, height } = detections.image;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const shapes = detections.faces.map((face) => {
    const { x, y, width: w, height: h } = face.box;
    const dots = face.landmarks
      .map((p) => `<circle cx="${p.x}" cy="${p.y}" r="${stroke}" fill="#00e676"/>`)
      .join('');
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#ff1744" stroke-width="${stroke}"/>${dots}`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  try {
    // The same upright, flattened pixels the detector saw (BMP included), then the overlay.
    const opened = await openImage(image);
    const base = await opened.pipeline.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const composed = sharp(base.data, {
      raw: { width: base.info.width, height: base.info.height, channels: 3 },
    })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      // Re-encoding a photo at full size costs as much as decoding it: the same backstop.
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS });
    return format === 'png'
      ? await composed.png().toBuffer()
      : await composed.jpeg({ quality: 90 }).toBuffer();
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause);
  }
}
