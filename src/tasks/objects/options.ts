/**
 * The objects task's options: `threshold` (the score a detection needs, 0..1) and `max` (how
 * many detections at most, 1..100). Both may be left out: the model's defaults then apply
 * (see ObjectsState). Values arrive as strings (query, CLI, multipart) or numbers (JSON).
 */
import { numberOption } from '../option-values.js';
import type { RawOptions } from '../task.js';

/** A bound on the work and the answer's size, whatever a model's own max_detections says. */
export const MAX_OBJECTS = 100;

export interface ObjectsOptions {
  readonly threshold?: number | undefined;
  readonly max?: number | undefined;
}

export function parseThreshold(value: unknown): number | undefined {
  return numberOption(value, 'threshold', { min: 0, max: 1 });
}

export function parseMax(value: unknown): number | undefined {
  return numberOption(value, 'max', { min: 1, max: MAX_OBJECTS, whole: true });
}

export function parseObjectsOptions(raw: RawOptions): ObjectsOptions {
  return { threshold: parseThreshold(raw.threshold), max: parseMax(raw.max) };
}
