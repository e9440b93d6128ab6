/**
 * Dynamic batching's bounds and default delay: constants only, so the config module
 * (src/config/variables.ts) can import them without importing what reads the configuration.
 */

/** Upper bounds: beyond them a batch holds more memory and latency than it can win back. */
export const BATCH_LIMITS = { maxBatchSize: 64, maxQueueDelayMs: 1000 } as const;

/** The default delay when batching is turned on without one. */
export const DEFAULT_BATCH_DELAY_MS = 5;
