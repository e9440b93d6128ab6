/**
 * The objects task's options: `threshold` (the score a detection needs, 0..1) and `max` (how
 * many detections at most, 1..100). Both may be left out: the model's defaults then apply
 * (see ObjectsState). Values arrive as strings (query, CLI, multipart) or numbers (JSON).
 */
import { BadRequestError } from '../../errors.js';
import type { RawOptions } from '../task.js';

/** A bound on the work and the answer's size, whatever a model's own max_detections says. */
export const MAX_OBJECTS = 100;

export interface ObjectsOptions {
  readonly threshold?: number | undefined;
  readonly max?: number | undefined;
}

/** A plain decimal: no hex, exponents, signs or blanks, which Number() would quietly accept. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  return Number.NaN;
}

function absent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

export function parseThreshold(value: unknown): number | undefined {
  if (absent(value)) return undefined;
  const threshold = numberOf(value);
  if (threshold === undefined || Number.isNaN(threshold) || threshold < 0 || threshold > 1) {
    throw new BadRequestError('bad_option', `threshold must be a number from 0 to 1, got '${String(value)}'`);
  }
  return threshold;
}

export function parseMax(value: unknown): number | undefined {
  if (absent(value)) return undefined;
  const max = numberOf(value);
  if (max === undefined || !Number.isInteger(max) || max < 1 || max > MAX_OBJECTS) {
    throw new BadRequestError(
      'bad_option',
      `max must be a whole number from 1 to ${MAX_OBJECTS}, got '${String(value)}'`,
    );
  }
  return max;
}

export function parseObjectsOptions(raw: RawOptions): ObjectsOptions {
  return { threshold: parseThreshold(raw.threshold), max: parseMax(raw.max) };
}
