/**
 * What GET /v2/health/ready answers, as Triton decides it. Strict readiness (the default, as
 * Triton's --strict-readiness): the server is ready when it can run work and every model that
 * should serve has a READY version; a model unloaded through the repository API should not, so
 * it does not count. Not strict: ready whenever it can run work, whatever its models' states
 * (each model's own ready route still tells). TFLITE_FN_STRICT_READINESS is the one setting.
 */
import { STRICT_READINESS } from '../config/index.js';
import type { ModelSource } from './model-source.js';

/** 'true' or '1' (and unset or blank: the default) is strict; 'false' or '0' is not. */
export function parseStrictReadiness(
  value: string | undefined,
  name: string = STRICT_READINESS.name,
): boolean {
  return value === undefined || value.trim() === ''
    ? STRICT_READINESS.fallback()
    : STRICT_READINESS.parse(value, name);
}

export interface ReadinessSetup {
  readonly strict: boolean;
  /** Whether the process can run work now (the server: a worker is ready); default: always. */
  readonly canServe?: () => boolean;
}

/** The server's readiness over the source's models, by the setting. */
export async function serverReady(
  source: ModelSource,
  { strict, canServe }: ReadinessSetup,
): Promise<boolean> {
  if (canServe && !canServe()) return false;
  if (!strict) return true;
  const index = await source.index();
  return index.every(
    (model) => model.unloaded === true || model.versions.some((version) => version.state === 'READY'),
  );
}
