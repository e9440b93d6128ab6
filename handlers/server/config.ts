/** Server settings: flags win over environment variables, which win over defaults. */

import { availableParallelism } from 'node:os';
import { BATCH_ENV, parseBatchDelay, parseBatchMax } from '../../src/batch/settings.js';
import { parseEngineSetting } from '../../src/engine/select.js';
import { BadRequestError } from '../../src/errors.js';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { parseStrictReadiness, STRICT_READINESS_ENV } from '../../src/oip/readiness.js';

export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly workers: number;
  readonly queueSize: number;
  readonly maxBodyBytes: number;
  /** Whole-request deadline: receiving the body and classifying it. */
  readonly timeoutMs: number;
  /** When set, /classify and /models need `x-api-key: <key>` or `authorization: Bearer <key>`. */
  readonly apiKey: string | undefined;
  readonly corsOrigins: '*' | string[];
  /** Models every worker loads and warms before the server reports ready ('all' for every one). */
  readonly preload: string;
  /** How long SIGTERM waits for in-flight requests. */
  readonly drainMs: number;
  /**
   * Dynamic batching in the workers (src/batch): items per engine call (1: off), and the delay,
   * for every model, over what each model's descriptor says; undefined: the descriptors decide.
   */
  readonly batchMax: number | undefined;
  readonly batchDelayMs: number | undefined;
  /** A model repository folder (src/model/repository.ts) served over /v2, watched for changes. */
  readonly modelRepository: string | undefined;
  /**
   * /v2/health/ready: ready only when every model meant to serve has a READY version (true,
   * Triton's default), or whenever a worker can take work (false). src/oip/readiness.ts.
   */
  readonly strictReadiness: boolean;
}

export type ServerFlags = Partial<
  Record<
    | 'port'
    | 'host'
    | 'workers'
    | 'queue'
    | 'max-body'
    | 'timeout'
    | 'api-key'
    | 'cors'
    | 'preload'
    | 'batch-max'
    | 'batch-delay-ms'
    | 'model-repository'
    | 'strict-readiness',
    string
  >
>;

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min)
    throw new BadRequestError('bad_option', `${name} must be a whole number >= ${min}, got '${value}'`);
  return number;
}

export function serverConfig(flags: ServerFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const cors = (flags.cors ?? env.TFLITE_FN_CORS_ORIGINS ?? '').trim();
  return {
    port: integer('--port', flags.port ?? env.TFLITE_FN_PORT ?? env.PORT, 8080, 0),
    host: flags.host ?? env.TFLITE_FN_HOST ?? '127.0.0.1',
    // One worker per core: each runs one inference thread, so they do not compete.
    workers: integer(
      '--workers',
      flags.workers ?? env.TFLITE_FN_WORKERS,
      Math.max(1, availableParallelism()),
      1,
    ),
    queueSize: integer('--queue', flags.queue ?? env.TFLITE_FN_QUEUE, 32, 0),
    maxBodyBytes: integer(
      '--max-body',
      flags['max-body'] ?? env.TFLITE_FN_MAX_BODY,
      BODY_LIMITS.server.maxBytes,
      1,
    ),
    timeoutMs: integer('--timeout', flags.timeout ?? env.TFLITE_FN_TIMEOUT_MS, 30_000, 100),
    apiKey: flags['api-key'] ?? env.TFLITE_FN_API_KEY ?? undefined,
    corsOrigins:
      cors === '*'
        ? '*'
        : cors
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean),
    preload: flags.preload ?? env.TFLITE_FN_PRELOAD ?? env.TFLITE_FN_DEFAULT_MODEL ?? 'imagenet',
    drainMs: 30_000,
    batchMax: given(flags['batch-max'] ?? env[BATCH_ENV.maxBatchSize], parseBatchMax, '--batch-max'),
    batchDelayMs: given(
      flags['batch-delay-ms'] ?? env[BATCH_ENV.maxQueueDelayMs],
      parseBatchDelay,
      '--batch-delay-ms',
    ),
    modelRepository: flags['model-repository'] || env.TFLITE_FN_MODEL_REPOSITORY || undefined,
    strictReadiness:
      flags['strict-readiness'] !== undefined
        ? parseStrictReadiness(flags['strict-readiness'], '--strict-readiness')
        : parseStrictReadiness(env[STRICT_READINESS_ENV]),
  };
}

/** A setting's value when it was given (blank counts as not given), parsed; else undefined. */
function given(
  value: string | undefined,
  parse: (value: string, name: string) => number,
  name: string,
): number | undefined {
  return value === undefined || value.trim() === '' ? undefined : parse(value, name);
}

/** The settings as printed at start: the API key is never printed. */
export function describeConfig(config: ServerConfig): Record<string, unknown> {
  return {
    ...config,
    apiKey: config.apiKey ? '(set)' : '(none: no authentication)',
    // The workers inherit it; each model's actual engine is in the 'ready' line.
    engine: parseEngineSetting(),
  };
}
