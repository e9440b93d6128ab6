/** classify's options: how many labels, and how the photo is fitted to the model input. */
import { BadRequestError } from '../../errors.js';
import { RESIZE_MODES, type ResizeMode } from '../../image/layout.js';

const MAX_TOP = 100;

export interface ClassifyTaskOptions {
  /** How many labels to return, best first. Defaults to the descriptor's `top_k`. */
  readonly top?: number | undefined;
  /** Defaults to the descriptor's `input.resize` (`cover` for the built-in models). */
  readonly resize?: ResizeMode | undefined;
}

export function parseTop(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const top = Number(value);
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
    throw new BadRequestError(
      'bad_option',
      `top must be a whole number from 1 to ${MAX_TOP}, got '${String(value)}'`,
    );
  }
  return top;
}

export function parseResize(value: unknown): ResizeMode | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!RESIZE_MODES.includes(value as ResizeMode)) {
    throw new BadRequestError(
      'bad_option',
      `resize must be one of ${RESIZE_MODES.join(', ')}, got '${String(value)}'`,
    );
  }
  return value as ResizeMode;
}
