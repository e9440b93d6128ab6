/**
 * How an objects result is shown: a few text lines, and the photo with a labelled box around
 * every object (drawn by the shared overlay, src/image/overlay.ts).
 */
import type { OverlayBox, PictureFormat } from '../../image/overlay.js';
import type { ObjectsResult } from './result.js';

export function objectsText(result: ObjectsResult): string {
  if (result.objects.length === 0) return 'no objects found';
  return result.objects
    .map(({ label, score, box }) => {
      const where = `at x=${box.x} y=${box.y}, ${box.width}x${box.height}`;
      return `${label} ${(score * 100).toFixed(1)}% ${where}`;
    })
    .join('\n');
}

/** One colour per class, spread around the hue circle (golden angle), so neighbours differ. */
function classColour(classIndex: number): string {
  return `hsl(${Math.round((classIndex * 137.508) % 360)}, 90%, 55%)`;
}

/** Boxes drawn worst first, so the best object's box and label end on top. */
export function objectBoxes(result: ObjectsResult): OverlayBox[] {
  return [...result.objects].reverse().map((object) => ({
    ...object.box,
    color: classColour(object.class),
    label: `${object.label} ${Math.round(object.score * 100)}%`,
  }));
}

export async function annotateObjects(
  image: Uint8Array,
  result: ObjectsResult,
  format: PictureFormat,
): Promise<Uint8Array> {
  // Drawing code loads on first use (see src/tasks/index.ts).
  const { drawOverlay } = await import('../../image/overlay.js');
  const drawn = await drawOverlay(image, { boxes: objectBoxes(result) }, format);
  return new Uint8Array(drawn.buffer, drawn.byteOffset, drawn.length);
}
