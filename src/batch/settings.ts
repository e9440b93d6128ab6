/**
 * Dynamic batching's settings, the one place a model's effective setting is decided.
 *
 * A model's descriptor (or a repository model's config.yaml) may say how it batches:
 *   batch: { max_size: 8, max_queue_delay_ms: 5 }
 * Without one a model runs every request alone. The environment is the server-wide word over
 * that: TFLITE_FN_BATCH_MAX (items per engine call; 1 is off) and TFLITE_FN_BATCH_DELAY_MS (how
 * long a lone request waits for company), each when set, override what the descriptors say for
 * the models TFLITE_FN_BATCH_MODELS names (a comma list, or 'all', the default); the models it
 * does not name keep their descriptor's setting. The server's --batch-max and --batch-delay-ms
 * flags set the first two for its workers. Only models whose converted graph verified batched
 * runs batch at all (src/convert/verify.ts).
 */
import { BATCH_DELAY_MS, BATCH_MAX, BATCH_MODELS, type Env } from '../config/index.js';
import { DEFAULT_BATCH_DELAY_MS } from './limits.js';

export interface BatchingOptions {
  /** Items run in one engine call at most; 1 turns batching off. */
  readonly maxBatchSize: number;
  /** How long the first item of a batch waits for more before it runs anyway. */
  readonly maxQueueDelayMs: number;
  /** Items that may wait for a batch; one more is refused with 503. */
  readonly maxQueueSize: number;
}

export { BATCH_LIMITS, DEFAULT_BATCH_DELAY_MS } from './limits.js';

export const BATCHING_OFF: BatchingOptions = { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 0 };

/** A descriptor's `batch:` section, as validated (src/model/descriptor.ts). */
export interface DeclaredBatching {
  readonly max_size: number;
  readonly max_queue_delay_ms: number;
}

/** Items per engine call: a flag's value (`name` says which) or the environment's; 1 is off. */
export function parseBatchMax(value: string | undefined, name: string = BATCH_MAX.name): number {
  return value === undefined || value.trim() === '' ? 1 : BATCH_MAX.parse(value, name);
}

/** The delay in milliseconds: a flag's value or the environment's. */
export function parseBatchDelay(value: string | undefined, name: string = BATCH_DELAY_MS.name): number {
  return value === undefined || value.trim() === ''
    ? DEFAULT_BATCH_DELAY_MS
    : BATCH_DELAY_MS.parse(value, name);
}

/**
 * The settings for one model (`id`): the environment's where it is set and names the model,
 * else the model's own `batch:` section (`declared`), else off.
 */
export function batchingFor(
  id: string,
  declared: DeclaredBatching | undefined,
  env: Env = process.env,
): BatchingOptions {
  const models = BATCH_MODELS.value(env);
  const envApplies = models.includes('all') || models.includes(id);
  const envMax = envApplies ? BATCH_MAX.read(env) : undefined;
  const envDelay = envApplies ? BATCH_DELAY_MS.read(env) : undefined;
  const maxBatchSize = envMax ?? declared?.max_size ?? 1;
  if (maxBatchSize === 1) return BATCHING_OFF;
  return {
    maxBatchSize,
    maxQueueDelayMs: envDelay ?? declared?.max_queue_delay_ms ?? DEFAULT_BATCH_DELAY_MS,
    // Four batches' worth: more would only wait past any sensible deadline.
    maxQueueSize: maxBatchSize * 4,
  };
}
