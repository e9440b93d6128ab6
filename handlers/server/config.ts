/** Server settings: flags win over environment variables, which win over defaults. */

import { availableParallelism } from 'node:os';
import {
  API_KEY,
  BATCH_DELAY_MS,
  BATCH_MAX,
  CORS_ORIGINS,
  DEFAULT_MODEL,
  type Env,
  HOST,
  MAX_BODY,
  MODEL_REPOSITORY,
  PORT,
  PRELOAD,
  QUEUE,
  type Setting,
  STRICT_READINESS,
  TIMEOUT_MS,
  WORKERS,
} from '../../src/config/index.js';
import { parseEngineSetting } from '../../src/engine/select.js';

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

/**
 * A flag's value, parsed by its variable's rules (an error names the flag), else the
 * variable's (an error names the variable); undefined when neither is given.
 */
function flagOr<T>(setting: Setting<T>, flag: string, value: string | undefined, env: Env): T | undefined {
  return value === undefined || value.trim() === '' ? setting.read(env) : setting.parse(value, flag);
}

export function serverConfig(flags: ServerFlags = {}, env: Env = process.env): ServerConfig {
  return {
    port: flagOr(PORT, '--port', flags.port, env) ?? PORT.fallback(),
    host: flagOr(HOST, '--host', flags.host, env) ?? HOST.fallback(),
    // One worker per core: each runs one inference thread, so they do not compete.
    workers: flagOr(WORKERS, '--workers', flags.workers, env) ?? Math.max(1, availableParallelism()),
    queueSize: flagOr(QUEUE, '--queue', flags.queue, env) ?? QUEUE.fallback(),
    maxBodyBytes: flagOr(MAX_BODY, '--max-body', flags['max-body'], env) ?? MAX_BODY.fallback(),
    timeoutMs: flagOr(TIMEOUT_MS, '--timeout', flags.timeout, env) ?? TIMEOUT_MS.fallback(),
    apiKey: flags['api-key'] ?? API_KEY.read(env),
    corsOrigins: flagOr(CORS_ORIGINS, '--cors', flags.cors, env) ?? CORS_ORIGINS.fallback(),
    // '' (the flag or the variable) preloads nothing.
    preload: flags.preload ?? PRELOAD.read(env) ?? DEFAULT_MODEL.value(env),
    drainMs: 30_000,
    batchMax: flagOr(BATCH_MAX, '--batch-max', flags['batch-max'], env),
    batchDelayMs: flagOr(BATCH_DELAY_MS, '--batch-delay-ms', flags['batch-delay-ms'], env),
    modelRepository: flags['model-repository'] || MODEL_REPOSITORY.read(env),
    strictReadiness:
      flagOr(STRICT_READINESS, '--strict-readiness', flags['strict-readiness'], env) ??
      STRICT_READINESS.fallback(),
  };
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
