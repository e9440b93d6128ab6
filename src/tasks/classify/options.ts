/** classify's options: how many labels, and how the photo is fitted to the model input. */
import { BadRequestError, shown } from '../../errors.js';
import { RESIZE_MODES, type ResizeMode } from '../../image/layout.js';
import { absent, numberOption } from '../option-values.js';

const MAX_TOP = 100;

export interface ClassifyTaskOptions {
  /** How many labels to return, best first. Defaults to the descriptor's `top_k`. */
  readonly top?: number | undefined;
  /** Defaults to the descriptor's `input.resize` (`cover` for the built-in models). */
  readonly resize?: ResizeMode | undefined;
}

export function parseTop(value: unknown): number | undefined {
  return numberOption(value, 'top', { min: 1, max: MAX_TOP, whole: true });
}

export function parseResize(value: unknown): ResizeMode | undefined {
  if (absent(value)) return undefined;
  if (!RESIZE_MODES.includes(value as ResizeMode)) {
    throw new BadRequestError(
      'bad_option',
      `resize must be one of ${RESIZE_MODES.join(', ')}, got '${shown(value)}'`,
    );
  }
  return value as ResizeMode;
}
