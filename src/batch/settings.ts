/**
 * Dynamic batching's settings, the one place they are read: TFLITE_FN_BATCH_MAX (items per
 * engine call; 1, the default, is off), TFLITE_FN_BATCH_DELAY_MS (how long a lone request
 * waits for company) and TFLITE_FN_BATCH_MODELS (which models batch: a comma list, or 'all',
 * the default). The server's --batch-max and --batch-delay-ms flags set the first two for its
 * workers. Only models whose converted graph verified batched runs batch (src/convert/verify.ts).
 */
import { BadRequestError } from '../errors.js';

export interface BatchingOptions {
  /** Items run in one engine call at most; 1 turns batching off. */
  readonly maxBatchSize: number;
  /** How long the first item of a batch waits for more before it runs anyway. */
  readonly maxQueueDelayMs: number;
  /** Items that may wait for a batch; one more is refused with 503. */
  readonly maxQueueSize: number;
}

/** The environment variables, by setting. */
export const BATCH_ENV = {
  maxBatchSize: 'TFLITE_FN_BATCH_MAX',
  maxQueueDelayMs: 'TFLITE_FN_BATCH_DELAY_MS',
  models: 'TFLITE_FN_BATCH_MODELS',
} as const;

/** Upper bounds: beyond them a batch holds more memory and latency than it can win back. */
export const BATCH_LIMITS = { maxBatchSize: 64, maxQueueDelayMs: 1000 } as const;

export const BATCHING_OFF: BatchingOptions = { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 0 };

/** The default delay when batching is turned on without one. */
export const DEFAULT_BATCH_DELAY_MS = 5;

function whole(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max)
    throw new BadRequestError(
      'bad_option',
      `${name} must be a whole number from ${min} to ${max}, got '${value}'`,
    );
  return number;
}

/** Items per engine call: a flag's value (`name` says which) or the environment's; 1 is off. */
export function parseBatchMax(value: string | undefined, name: string = BATCH_ENV.maxBatchSize): number {
  return whole(name, value, 1, 1, BATCH_LIMITS.maxBatchSize);
}

/** The delay in milliseconds: a flag's value or the environment's. */
export function parseBatchDelay(value: string | undefined, name: string = BATCH_ENV.maxQueueDelayMs): number {
  return whole(name, value, DEFAULT_BATCH_DELAY_MS, 0, BATCH_LIMITS.maxQueueDelayMs);
}

/** The settings for one model (`id`), from the environment. */
export function batchingFor(id: string, env: NodeJS.ProcessEnv = process.env): BatchingOptions {
  const maxBatchSize = parseBatchMax(env[BATCH_ENV.maxBatchSize]);
  if (maxBatchSize === 1) return BATCHING_OFF;
  const models = (env[BATCH_ENV.models] ?? 'all').split(',').map((name) => name.trim());
  if (!models.includes('all') && !models.includes(id)) return BATCHING_OFF;
  return {
    maxBatchSize,
    maxQueueDelayMs: parseBatchDelay(env[BATCH_ENV.maxQueueDelayMs]),
    // Four batches' worth: more would only wait past any sensible deadline.
    maxQueueSize: maxBatchSize * 4,
  };
}
