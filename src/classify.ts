/**
 * classify(image bytes) → what is in the picture. The platform-free heart of tflite-fn: the
 * classify task (src/tasks/classify/) run by the one task runner.
 */
import type { ResizeMode } from './image/layout.js';
import { classifyTask } from './tasks/classify/index.js';
import { parseResize, parseTop } from './tasks/classify/options.js';
import type { Classification } from './tasks/classify/result.js';
import { type RunOptions, runTask } from './tasks/run.js';

export { parseResize, parseTop } from './tasks/classify/options.js';
export type { Classification, Prediction } from './tasks/classify/result.js';

/** `model`, `catalog` and `limits` as for every task (RunOptions), and classify's own options. */
export interface ClassifyOptions extends RunOptions {
  /** How many labels to return, best first. Defaults to the descriptor's `top_k`. */
  readonly top?: number | undefined;
  /** Defaults to the descriptor's `input.resize` (`cover` for the built-in models). */
  readonly resize?: ResizeMode | undefined;
}

export function classify(image: Uint8Array, options: ClassifyOptions = {}): Promise<Classification> {
  return runTask(
    classifyTask,
    image,
    { top: parseTop(options.top), resize: parseResize(options.resize) },
    options,
  );
}
