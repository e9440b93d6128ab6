/** segment's options: the foreground threshold (probability models) and the classes to keep. */
import { BadRequestError } from '../../errors.js';
import { absent, numberOption } from '../option-values.js';

export interface SegmentOptions {
  /** Probability (0-1) a pixel needs to be foreground; defaults to the descriptor's. */
  readonly threshold?: number | undefined;
  /** Class names the cut-out keeps; defaults to every class but the background. */
  readonly keep?: readonly string[] | undefined;
}

/** Enough for any label set we ship (21 classes) and far below anything costly. */
const MAX_KEEP = 256;
/** Class names are words; a longer one is not a class and would only bloat the error echoing it. */
const MAX_NAME = 64;

export function parseThreshold(value: unknown): number | undefined {
  return numberOption(value, 'threshold', { min: 0, max: 1 });
}

/** `person,dog` (query, CLI, form field) or ["person", "dog"] (JSON). */
export function parseKeep(value: unknown): string[] | undefined {
  if (absent(value)) return undefined;
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || items.length > MAX_KEEP || !items.every((item) => typeof item === 'string')) {
    throw new BadRequestError(
      'bad_option',
      `keep must be class names separated by commas (at most ${MAX_KEEP}), e.g. person,dog`,
    );
  }
  const names = items.map((item) => item.trim()).filter((item) => item !== '');
  if (names.length === 0) throw new BadRequestError('bad_option', 'keep names no class');
  if (names.some((name) => name.length > MAX_NAME)) {
    throw new BadRequestError('bad_option', `keep: a class name has at most ${MAX_NAME} characters`);
  }
  return [...new Set(names)];
}

export function parseSegmentOptions(raw: Readonly<Record<string, unknown>>): SegmentOptions {
  return { threshold: parseThreshold(raw.threshold), keep: parseKeep(raw.keep) };
}
