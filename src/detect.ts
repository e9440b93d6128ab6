/**
 * detect(image bytes) → the faces in it: boxes, scores and landmarks in the photo's own pixels
 * (after EXIF orientation). The detect task (src/tasks/detect/) run by the one task runner.
 */
import type { ImageLimits } from './image/decode.js';
import type { ModelCatalog } from './model/catalog.js';
import { detectTask } from './tasks/detect/index.js';
import type { Detections } from './tasks/detect/result.js';
import { runTask } from './tasks/run.js';

export { type AnnotatedFormat, annotate } from './tasks/detect/annotate.js';
export type { Detections, Face } from './tasks/detect/result.js';

export const DEFAULT_DETECT_MODEL = detectTask.defaultModel;

export interface DetectOptions {
  readonly model?: string | undefined;
  /** Search overlapping tiles of large photos too (default true). */
  readonly tiling?: boolean | undefined;
  readonly catalog?: ModelCatalog | undefined;
  readonly limits?: ImageLimits | undefined;
}

export function detect(image: Uint8Array, options: DetectOptions = {}): Promise<Detections> {
  const { model, catalog, limits } = options;
  return runTask(
    detectTask,
    image,
    { tiling: options.tiling },
    { model: model ?? DEFAULT_DETECT_MODEL, catalog, limits },
  );
}
