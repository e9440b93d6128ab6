/**
 * The photo with a box around every face and dots on the landmarks, like WasmEdge's MTCNN
 * example returns.
 */
import { drawOverlay, type PictureFormat } from '../../image/overlay.js';
import type { Detections } from './result.js';

export type AnnotatedFormat = PictureFormat;

export function annotate(
  image: Uint8Array,
  detections: Detections,
  format: AnnotatedFormat = 'jpeg',
): Promise<Buffer> {
  return drawOverlay(
    image,
    {
      boxes: detections.faces.map((face) => face.box),
      dots: detections.faces.flatMap((face) => face.landmarks),
    },
    format,
  );
}
