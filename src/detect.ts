/**
 * detect(image bytes) → the faces in it: boxes, scores and landmarks in the photo's own pixels
 * (after EXIF orientation). The detect task (src/tasks/detect/) run by the one task runner.
 */
import { detectTask } from './tasks/detect/index.js';
import type { Detections } from './tasks/detect/result.js';
import { type RunOptions, runTask } from './tasks/run.js';

export { type AnnotatedFormat, annotate } from './tasks/detect/annotate.js';
export type { Detections, Face } from './tasks/detect/result.js';

export const DEFAULT_DETECT_MODEL = detectTask.defaultModel;

/** `model`, `catalog` and `limits` as for every task (RunOptions), and detect's own options. */
export interface DetectOptions extends RunOptions {
  /** Search overlapping tiles of large photos too (default true). */
  readonly tiling?: boolean | undefined;
}

export function detect(image: Uint8Array, options: DetectOptions = {}): Promise<Detections> {
  return runTask(
    detectTask,
    image,
    { tiling: options.tiling },
    { ...options, model: options.model ?? DEFAULT_DETECT_MODEL },
  );
}
