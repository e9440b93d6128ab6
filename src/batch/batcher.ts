/**
 * Dynamic batching: concurrent runs of one model are gathered into one engine call.
 *
 * An item waits in the queue until the queue holds `maxBatchSize` items or the oldest has
 * waited `maxQueueDelayMs`; then up to `maxBatchSize` items run as one batch and each is
 * answered with its own outputs. One batch runs at a time (the engine runs one call at a time
 * anyway): items arriving meanwhile gather for the next, so under load batches fill without
 * waiting for the delay, and a lone request waits at most the delay.
 *
 * Failures stay with the item that caused them where possible: a batch that fails is run again
 * item by item, so a malformed item gets its own error and the others their answers. The queue
 * is bounded (an item beyond it is refused at once with 503), and an item whose AbortSignal
 * fires while it waits leaves the queue with the signal's reason.
 */
import type { CompiledModel, TensorData } from '../engine/types.js';
import { toTfliteFnError, UnavailableError } from '../errors.js';
import type { BatchingOptions } from './settings.js';

interface Waiting {
  readonly inputs: readonly TensorData[];
  readonly since: number;
  readonly resolve: (outputs: TensorData[]) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Batches of more than one run in this process, and the items they held (for /metrics). */
export interface BatchCounts {
  readonly batches: number;
  readonly batchedItems: number;
}

const processCounts = { batches: 0, batchedItems: 0 };

/** This process's batch counts so far (every batcher's). */
export function batchCounts(): BatchCounts {
  return { ...processCounts };
}

/** What the batcher needs of a model: one run, and a batched run. */
export type BatchableModel = Pick<CompiledModel, 'run'> & Required<Pick<CompiledModel, 'runBatch'>>;

export class DynamicBatcher {
  readonly #model: BatchableModel;
  readonly #options: BatchingOptions;
  readonly #queue: Waiting[] = [];
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  /** Items run in batches of more than one, and batches run (for /metrics and the tests). */
  readonly stats = { batches: 0, batchedItems: 0, largestBatch: 0, fallbacks: 0 };

  constructor(model: BatchableModel, options: BatchingOptions) {
    this.#model = model;
    this.#options = options;
  }

  /** Items waiting for a batch. */
  get waiting(): number {
    return this.#queue.length;
  }

  run(inputs: readonly TensorData[], signal?: AbortSignal): Promise<TensorData[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#queue.length >= this.#options.maxQueueSize)
      return Promise.reject(
        new UnavailableError(
          'overloaded',
          `the model's batch queue is full (${this.#queue.length} waiting); retry shortly`,
          1,
        ),
      );
    return new Promise((resolve, reject) => {
      const item: Waiting = {
        inputs,
        since: performance.now(),
        resolve,
        reject,
        signal,
        onAbort: () => this.#abandon(item),
      };
      signal?.addEventListener('abort', item.onAbort, { once: true });
      this.#queue.push(item);
      this.#schedule();
    });
  }

  /** An item whose caller gave up: out of the queue (if still there), rejected with the reason. */
  #abandon(item: Waiting): void {
    const at = this.#queue.indexOf(item);
    if (at < 0) return; // already running: its answer is simply not awaited
    this.#queue.splice(at, 1);
    item.reject(item.signal?.reason);
  }

  /** Runs a batch now if one is due, else makes sure one will be when the oldest item's delay ends. */
  #schedule(): void {
    if (this.#running || this.#queue.length === 0) return;
    const oldest = this.#queue[0] as Waiting;
    const waited = performance.now() - oldest.since;
    if (this.#queue.length >= this.#options.maxBatchSize || waited >= this.#options.maxQueueDelayMs) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#runBatch();
      return;
    }
    this.#timer ??= setTimeout(
      () => {
        this.#timer = undefined;
        this.#schedule();
      },
      Math.max(0, this.#options.maxQueueDelayMs - waited),
    );
  }

  async #runBatch(): Promise<void> {
    this.#running = true;
    const items = this.#queue.splice(0, this.#options.maxBatchSize);
    for (const item of items) item.signal?.removeEventListener('abort', item.onAbort);
    try {
      if (items.length === 1) {
        await settle(items[0] as Waiting, () => this.#model.run((items[0] as Waiting).inputs));
        return;
      }
      let outputs: TensorData[][];
      try {
        outputs = await this.#model.runBatch(items.map((item) => item.inputs));
      } catch {
        // Which item failed is unknown: each runs alone, and only the culprit gets an error.
        this.stats.fallbacks++;
        for (const item of items) await settle(item, () => this.#model.run(item.inputs));
        return;
      }
      this.stats.batches++;
      this.stats.batchedItems += items.length;
      processCounts.batches++;
      processCounts.batchedItems += items.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, items.length);
      items.forEach((item, index) => {
        item.resolve(outputs[index] as TensorData[]);
      });
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }
}

async function settle(item: Waiting, run: () => Promise<TensorData[]>): Promise<void> {
  try {
    item.resolve(await run());
  } catch (error) {
    item.reject(toTfliteFnError(error));
  }
}

/**
 * The model with batching in front of its `run`, when it can batch and batching is on
 * (maxBatchSize > 1); otherwise the model itself.
 */
export function withBatching(model: CompiledModel, options: BatchingOptions | undefined): CompiledModel {
  const runBatch = model.runBatch?.bind(model);
  if (!options || options.maxBatchSize <= 1 || !model.batchable || !runBatch) return model;
  const batcher = new DynamicBatcher({ run: (inputs) => model.run(inputs), runBatch }, options);
  return {
    inputs: model.inputs,
    outputs: model.outputs,
    batchable: true,
    run: (inputs) => batcher.run(inputs),
    runBatch,
    dispose: () => model.dispose(),
  };
}
