/**
 * A pool of worker processes, each with its models loaded, behind a bounded queue.
 *
 * The pool has a fixed number of slots; each holds one worker (see worker-process.ts for a
 * worker's states) or waits to start one. What happens on each event:
 *
 *   worker ready            → its slot's failure count resets; queued jobs go to it.
 *   worker gone, was ready  → its jobs are retried once elsewhere; a new worker starts at once.
 *   worker gone, loading    → a load failure: the slot starts a new worker after a backoff
 *                             (100 ms, doubling, at most 30 s) and the reason is logged, so a
 *                             model that never loads is a slow, visible retry, not a crash loop.
 *   job reply               → the job is answered.
 *   job deadline            → answered 504 (503 if no worker was ever able to take it); if a
 *                             worker is running it, that worker is killed and replaced: it would
 *                             spend its CPU on an answer no one waits for.
 *   stop()                  → queued jobs get 503, no more workers start, the workers leave.
 *
 * Jobs are task jobs (an image to run a task on) and the Open Inference Protocol's tensor
 * jobs (a model's signature, or checked tensors to run it on; protocol.ts): both kinds are
 * queued, retried and timed out alike. Tensor jobs have nothing to decode and are light.
 *
 * Lanes. A job is light or heavy by what its image will cost to decode, estimated from the
 * header before it is queued (src/image/decode-cost.ts): a 48 MP photo or a 1024x1024 JPEG
 * of 970 scans costs a worker as much as 50-100 ordinary photos, and first-come-first-served
 * would make every photo behind it wait. So:
 *   - light jobs are dispatched before heavy ones, each lane with its own bounded queue;
 *   - slots [0, H), H = max(1, workers - 1), are heavy-capable: a heavy job runs only there,
 *     alone on its worker, so with 2+ workers at least one worker is always free for light
 *     work. Light jobs prefer the other workers and use heavy-capable ones not running a heavy
 *     job when those are full and no heavy job waits (else heavy jobs could wait forever). With
 *     1 worker there is nothing to reserve: it runs both, light first, so under a steady flow
 *     of light work a heavy job may wait until its deadline;
 *   - the main process (HTTP, health checks) must win the CPU over the workers, and light
 *     work over heavy: workers start niced (WORKER_NICE), heavy-capable ones more.
 *
 * Invariants, restored by every event handler before it returns:
 *   1. Unless stopping, every slot has a live worker or a timer that will start one.
 *   2. A job is in exactly one place: its lane's queue, one worker's `jobs`, or answered. It is
 *      answered exactly once, and no later than its deadline (set when it is accepted).
 *   3. Only ready workers get jobs, at most `perWorker` each (an unload, sent to every ready
 *      worker at once, may go one past it); a heavy job only an empty
 *      heavy-capable worker, which then gets nothing else until it answers. No job waits while
 *      a worker could take it by these rules (light first): #dispatch() runs after everything
 *      that makes room.
 *   4. No job waits for a worker that cannot be expected: with none ready, and none on its
 *      way (loading, or killed and about to be replaced) or a slot failing to load, queued and
 *      new jobs are answered 503 at once, with Retry-After until the next start.
 */
import type { BatchCounts } from '../../src/batch/batcher.js';
import type { TensorData } from '../../src/engine/types.js';
import { TfliteFnError, UnavailableError } from '../../src/errors.js';
import type { TaskRunner } from '../../src/http/task-job.js';
import { estimateDecodeCost } from '../../src/image/decode-cost.js';
import type { ModelRef, ModelSignature } from '../../src/oip/tensor-runner.js';
import type {
  AnyJobMessage,
  JobResult,
  ReadyMessage,
  ReplyMessage,
  SerializedError,
  WorkerResult,
} from './protocol.js';
import { type WorkerExit, WorkerProcess } from './worker-process.js';

export interface PoolOptions {
  readonly workers: number;
  /**
   * Light jobs that may wait for a worker; one more is refused with 503. Heavy jobs have their
   * own queue of half as many (rounded up): a heavy job holds a worker for up to a second or
   * so and at most H run at once, so a longer heavy queue would mostly hold clients until
   * their deadline. Both refusals are the same 503 'overloaded' with Retry-After: 1.
   */
  readonly queueSize: number;
  /**
   * Jobs one worker runs at once: 2 lets it decode one image while it infers another. A
   * function is asked at each dispatch (dynamic batching: a model repository's configs change).
   */
  readonly perWorker?: number | (() => number);
  /** Each job's deadline, from when it is accepted (waiting in the queue counts). */
  readonly jobTimeoutMs: number;
  /** Environment for the workers (models to preload, threads, limits). */
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (event: Record<string, unknown>) => void;
}

/** What /readyz says: ready (some worker can take work), loading, or unavailable (failing). */
export type Readiness = 'ready' | 'loading' | 'unavailable';

/**
 * Niceness of the worker processes (the main process keeps its own). Under contention the
 * kernel then serves the main process first, light-only workers next, heavy-capable ones last
 * (each step of nice is ~1.25x the CPU share; 5 steps ~3x, 10 steps ~9x). Only ever raised:
 * lowering it back needs privileges. A lone worker (--workers 1) runs at lightOnly.
 */
export const WORKER_NICE = { lightOnly: 5, heavyCapable: 10 } as const;

type Lane = 'light' | 'heavy';

interface Job {
  readonly message: AnyJobMessage;
  readonly lane: Lane;
  readonly resolve: (result: WorkerResult) => void;
  readonly reject: (error: TfliteFnError) => void;
  /** Times it was sent to a worker: a job whose worker dies under it is retried once. */
  attempts: number;
  /** The worker running it; undefined while it waits in the queue (or once answered). */
  holder: Worker | undefined;
  deadline: NodeJS.Timeout | undefined;
}

type Worker = WorkerProcess<Job>;

interface Slot {
  worker: Worker | undefined;
  /** Load failures in a row; sets the backoff before the next start. */
  failures: number;
  /** Set while the slot waits out its backoff. */
  restart: NodeJS.Timeout | undefined;
  restartAt: number;
}

/** start()'s promise, settled by whichever event ends start-up. */
interface StartUp {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 30_000;
/** How long stop() lets a worker leave by itself before killing it. */
const STOP_GRACE_MS = 5_000;

/** The wait before the next start after `failures` load failures in a row. */
export function retryDelayMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}

function rebuild(error: SerializedError): TfliteFnError {
  return new TfliteFnError(error.status, error.code, error.message, { expose: error.expose });
}

export class WorkerPool {
  readonly #options: Required<Omit<PoolOptions, 'env' | 'log'>> & Pick<PoolOptions, 'env' | 'log'>;
  readonly #slots: Slot[];
  /** Waiting jobs by lane; light ones are dispatched first. */
  readonly #queues: Record<Lane, Job[]> = { light: [], heavy: [] };
  /** Heavy-capable slots are [0, heavySlots). */
  readonly #heavySlots: number;
  #nextId = 1;
  #stopping = false;
  /** Set once every slot has had a ready worker at the same time: the end of start-up. */
  #reachedFullStrength = false;
  readonly #started: StartUp;
  /** Per model: the latest load and warm-up time a worker reported, for /metrics. */
  readonly modelLoadMs = new Map<string, number>();
  /** Which engine each preloaded model runs on (as the workers reported it), for the logs. */
  readonly engines = new Map<string, { engine: string; reason: string }>();
  /** Workers started to replace one that went (for any reason), for /metrics. */
  restarts = 0;
  /** Batches of more than one request the workers ran, and the requests in them (src/batch). */
  readonly batching = { batches: 0, batchedItems: 0 };
  /** Each worker's counts as last reported: replies carry running totals. */
  readonly #batchingSeen = new WeakMap<Worker, BatchCounts>();

  constructor(options: PoolOptions) {
    this.#options = { perWorker: 2, ...options };
    this.#heavySlots = Math.max(1, options.workers - 1);
    this.#slots = Array.from({ length: options.workers }, () => ({
      worker: undefined,
      failures: 0,
      restart: undefined,
      restartAt: 0,
    }));
    let settle!: Pick<StartUp, 'resolve' | 'reject'>;
    const promise = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    promise.catch(() => undefined); // start()'s caller handles it; no unhandled rejection
    this.#started = { promise, ...settle };
  }

  get queueDepth(): number {
    return this.#queues.light.length + this.#queues.heavy.length;
  }

  /** Each live worker's lane and jobs, for operators and the tests of the lanes. */
  get workerLoads(): { slot: number; pid: number; heavyCapable: boolean; light: number; heavy: number }[] {
    return this.#live().map((worker) => {
      const heavy = [...worker.jobs.values()].filter((job) => job.lane === 'heavy').length;
      return {
        slot: worker.slot,
        pid: worker.pid ?? 0,
        heavyCapable: this.#heavyCapable(worker.slot),
        light: worker.jobs.size - heavy,
        heavy,
      };
    });
  }

  get inFlight(): number {
    return this.#live().reduce((count, worker) => count + worker.jobs.size, 0);
  }

  get readyWorkers(): number {
    return this.#live().filter((worker) => worker.state === 'ready').length;
  }

  get size(): number {
    return this.#options.workers;
  }

  /** PIDs of the live worker processes, loading ones too (for operators, and the tests that kill one). */
  get pids(): number[] {
    return this.#live().map((worker) => worker.pid ?? 0);
  }

  /**
   * Ready once start-up has filled every slot, and for as long as at least one worker can take
   * work; a pool with no usable worker is not ready, whatever it was before.
   */
  get readiness(): Readiness {
    if (this.#stopping) return 'unavailable';
    if (this.#reachedFullStrength && this.readyWorkers > 0) return 'ready';
    return this.#canTakeWork() ? 'loading' : 'unavailable';
  }

  /**
   * Starts every worker. Resolves once all have loaded and warmed their models; rejects on the
   * first worker that cannot load them (the pool keeps retrying, with backoff, until stop()).
   */
  start(): Promise<void> {
    this.#slots.forEach((slot, index) => {
      this.#startWorker(slot, index);
    });
    return this.#started.promise;
  }

  #heavyCapable(slot: number): boolean {
    return slot < this.#heavySlots;
  }

  /** Heavy-capable workers run lower only when there are light-only ones to favour. */
  #niceOf(slot: number): number {
    const favourLight = this.#heavyCapable(slot) && this.#heavySlots < this.size;
    return favourLight ? WORKER_NICE.heavyCapable : WORKER_NICE.lightOnly;
  }

  #live(): Worker[] {
    return this.#slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  }

  /**
   * Whether a job accepted now can expect a worker: one is ready, or one is on its way (loading,
   * or being killed for a deadline: its replacement starts the moment it exits) and no slot is
   * failing to load (a model that failed once will most likely fail again; a client is better
   * served by a 503 now than by one at its deadline).
   */
  #canTakeWork(): boolean {
    if (this.readyWorkers > 0) return true;
    const coming = this.#live().some((worker) => worker.state === 'loading' || worker.state === 'retiring');
    return coming && !this.#stopping && this.#slots.every((slot) => slot.failures === 0);
  }

  #startWorker(slot: Slot, index: number): void {
    slot.restart = undefined;
    try {
      slot.worker = new WorkerProcess<Job>(
        index,
        { TFLITE_FN_THREADS: '1', ...process.env, ...this.#options.env },
        this.#niceOf(index),
        {
          ready: (worker, message) => this.#onReady(worker, message),
          reply: (worker, message) => this.#onReply(worker, message),
          gone: (worker, exit) => this.#onGone(worker, exit),
        },
      );
      this.#options.log?.({ msg: 'worker starting', slot: index, pid: slot.worker.pid });
    } catch (error) {
      // fork() throws only on bad arguments or when the system refuses a process: retry later.
      slot.worker = undefined;
      this.#scheduleRestart(slot, index, { spawnError: error as Error });
    }
  }

  #onReady(worker: Worker, message: ReadyMessage): void {
    const slot = this.#slots[worker.slot] as Slot;
    const replacement = slot.failures > 0 || this.#reachedFullStrength;
    slot.failures = 0;
    for (const [model, ms] of Object.entries(message.loadMs)) {
      this.modelLoadMs.set(model, ms + (message.warmUpMs[model] ?? 0));
    }
    for (const [model, choice] of Object.entries(message.engines)) this.engines.set(model, choice);
    if (replacement) this.#options.log?.({ msg: 'worker ready', slot: worker.slot, pid: worker.pid });
    if (!this.#reachedFullStrength && this.readyWorkers === this.size) {
      this.#reachedFullStrength = true;
      this.#started.resolve();
    }
    this.#dispatch();
  }

  #onReply(worker: Worker, message: ReplyMessage): void {
    if (message.batching) this.#countBatches(worker, message.batching);
    const job = worker.jobs.get(message.id);
    if (!job) return; // answered already (its deadline passed)
    worker.jobs.delete(message.id);
    if (message.type === 'result') this.#answer(job, { result: message.result });
    else this.#answer(job, { error: rebuild(message.error) });
    this.#dispatch();
  }

  #countBatches(worker: Worker, counts: BatchCounts): void {
    const seen = this.#batchingSeen.get(worker) ?? { batches: 0, batchedItems: 0 };
    this.batching.batches += Math.max(0, counts.batches - seen.batches);
    this.batching.batchedItems += Math.max(0, counts.batchedItems - seen.batchedItems);
    this.#batchingSeen.set(worker, counts);
  }

  #onGone(worker: Worker, exit: WorkerExit): void {
    const slot = this.#slots[worker.slot] as Slot;
    if (slot.worker === worker) slot.worker = undefined;
    this.#takeBack(worker);
    if (this.#stopping) return;
    if (exit.from === 'loading') {
      this.#scheduleRestart(slot, worker.slot, exit, worker.pid);
    } else {
      this.#options.log?.({
        level: 'warn',
        msg: 'worker exited; starting a new one',
        slot: worker.slot,
        pid: worker.pid,
        code: exit.code,
        signal: exit.signal,
      });
      this.restarts++;
      this.#startWorker(slot, worker.slot);
    }
    if (!this.#canTakeWork()) this.#refuseQueued();
    this.#dispatch();
  }

  /** A worker failed to load: log why, and start the next one after the backoff. */
  #scheduleRestart(
    slot: Slot,
    index: number,
    exit: Partial<WorkerExit>,
    pid: number | undefined = undefined,
  ): void {
    slot.failures++;
    const delay = retryDelayMs(slot.failures);
    const reason = exit.loadError?.message ?? exit.spawnError?.message;
    this.#options.log?.({
      level: exit.loadError || exit.spawnError ? 'error' : 'warn',
      msg: reason ? `worker could not load its models: ${reason}` : 'worker exited while loading its models',
      slot: index,
      pid,
      code: exit.code,
      signal: exit.signal,
      failuresInARow: slot.failures,
      retryInMs: delay,
    });
    // Start-up fails loudly when a model cannot load; a worker killed while loading is not
    // a reason to give up, and its replacement is on its way.
    if (reason && !this.#reachedFullStrength) {
      this.#started.reject(
        new TfliteFnError(500, 'worker_failed', `a worker could not load its models: ${reason}`),
      );
    }
    this.restarts++;
    slot.restartAt = Date.now() + delay;
    slot.restart = setTimeout(() => this.#startWorker(slot, index), delay);
  }

  /** The jobs a worker held (it went, or is being killed) go back to the queue's front, once. */
  #takeBack(worker: Worker): void {
    const jobs = [...worker.jobs.values()];
    worker.jobs.clear();
    for (const job of jobs.reverse()) {
      job.holder = undefined;
      if (this.#stopping) {
        this.#answer(job, { error: new UnavailableError('shutting_down', 'the server is shutting down', 5) });
      } else if (job.attempts < 2) {
        this.#queues[job.lane].unshift(job);
      } else {
        this.#answer(job, {
          error: new UnavailableError('worker_crashed', 'the worker handling this request stopped; retry', 1),
        });
      }
    }
  }

  #unavailable(): UnavailableError {
    const next = Math.min(...this.#slots.map((slot) => (slot.restart ? slot.restartAt : Infinity)));
    const seconds = Number.isFinite(next) ? Math.ceil((next - Date.now()) / 1000) : 1;
    return new UnavailableError(
      'no_workers',
      'no worker is able to run a model right now (their models are loading or failing to load); retry shortly',
      Math.max(1, seconds),
    );
  }

  /** No worker can be expected: queued jobs are answered now, not at their deadlines. */
  #refuseQueued(): void {
    const error = this.#unavailable();
    for (const job of this.#takeQueued()) this.#answer(job, { error });
  }

  /** Empties both queues, returning what they held. */
  #takeQueued(): Job[] {
    return [...this.#queues.light.splice(0), ...this.#queues.heavy.splice(0)];
  }

  #onDeadline(job: Job): void {
    const worker = job.holder;
    const timeout = new TfliteFnError(
      504,
      'timeout',
      `the request took longer than ${this.#options.jobTimeoutMs} ms`,
      { expose: true }, // says only what the client's own request did
    );
    if (worker) {
      worker.jobs.delete(job.message.id);
      this.#answer(job, { error: timeout });
      this.#options.log?.({
        level: 'warn',
        msg: 'a request passed its deadline; stopping its worker and starting a new one',
        slot: worker.slot,
        pid: worker.pid,
        timeoutMs: this.#options.jobTimeoutMs,
      });
      // Its other jobs are innocent: they go to another worker now, not after the exit.
      this.#takeBack(worker);
      worker.kill();
    } else {
      const queue = this.#queues[job.lane];
      const at = queue.indexOf(job);
      if (at >= 0) queue.splice(at, 1);
      // A job that never reached a worker because none was usable is told so (503); one that
      // ran, or waited behind others, ran out of time (504).
      const neverServable = job.attempts === 0 && this.readyWorkers === 0;
      this.#answer(job, { error: neverServable ? this.#unavailable() : timeout });
    }
    this.#dispatch();
  }

  #answer(job: Job, outcome: { result: WorkerResult } | { error: TfliteFnError }): void {
    clearTimeout(job.deadline);
    job.deadline = undefined;
    job.holder = undefined;
    if ('result' in outcome) job.resolve(outcome.result);
    else job.reject(outcome.error);
  }

  static #runsHeavy(worker: Worker): boolean {
    for (const job of worker.jobs.values()) if (job.lane === 'heavy') return true;
    return false;
  }

  /**
   * Where a light job goes: a ready worker with room not running a heavy job; light-only
   * workers first, then the least busy. While a heavy job waits, light jobs keep off the
   * heavy-capable workers (if there are others), so that one of those empties and takes it: a
   * steady flow of light work would otherwise hold heavy jobs until their deadline.
   */
  #lightTarget(): Worker | undefined {
    const spareHeavyCapable = this.#queues.heavy.length === 0 || this.#heavySlots === this.size;
    const limit = this.#options.perWorker;
    const perWorker = typeof limit === 'function' ? limit() : limit;
    let target: Worker | undefined;
    let best = Infinity;
    for (const worker of this.#live()) {
      if (worker.state !== 'ready' || worker.jobs.size >= perWorker) continue;
      if (WorkerPool.#runsHeavy(worker)) continue;
      if (this.#heavyCapable(worker.slot) && !spareHeavyCapable) continue;
      const rank = (this.#heavyCapable(worker.slot) ? perWorker : 0) + worker.jobs.size;
      if (rank < best) [target, best] = [worker, rank];
    }
    return target;
  }

  /** Where a heavy job goes: an empty, ready, heavy-capable worker (it runs alone there). */
  #heavyTarget(): Worker | undefined {
    return this.#live().find(
      (worker) => worker.state === 'ready' && worker.jobs.size === 0 && this.#heavyCapable(worker.slot),
    );
  }

  /** Sends queued jobs to workers by the lane rules: light ones first, where they may go. */
  #dispatch(): void {
    for (;;) {
      const lightTarget = this.#queues.light.length > 0 ? this.#lightTarget() : undefined;
      const heavyTarget = !lightTarget && this.#queues.heavy.length > 0 ? this.#heavyTarget() : undefined;
      const target = lightTarget ?? heavyTarget;
      if (!target) return;
      const lane: Lane = lightTarget ? 'light' : 'heavy';
      const job = this.#queues[lane].shift() as Job;
      job.attempts++;
      job.holder = target;
      target.jobs.set(job.message.id, job);
      target.send(job.message);
    }
  }

  #queueBound(lane: Lane): number {
    return lane === 'light' ? this.#options.queueSize : Math.ceil(this.#options.queueSize / 2);
  }

  /** The lane a job waits in: a task job's by its image's decoding cost; tensors need no decoding. */
  static async #laneOf(message: AnyJobMessage): Promise<Lane> {
    if (message.type !== 'job') return 'light';
    // Estimated before anything is queued: from the header only, bounded (decode-cost.ts).
    return (await estimateDecodeCost(message.image)).heavy ? 'heavy' : 'light';
  }

  async #submit(message: AnyJobMessage): Promise<WorkerResult> {
    const lane = await WorkerPool.#laneOf(message);
    if (this.#stopping) throw new UnavailableError('shutting_down', 'the server is shutting down', 5);
    if (!this.#canTakeWork()) throw this.#unavailable();
    return new Promise((resolve, reject) => {
      const job: Job = {
        message,
        lane,
        resolve,
        reject,
        attempts: 0,
        holder: undefined,
        deadline: undefined,
      };
      const queue = this.#queues[lane];
      queue.push(job);
      this.#dispatch();
      // Room on a worker or in its lane's queue; otherwise refused now rather than piling up.
      if (queue.length > this.#queueBound(lane)) {
        queue.pop();
        const waiting = lane === 'light' ? 'requests' : 'requests with costly images';
        reject(
          new UnavailableError(
            'overloaded',
            `the server is busy (${queue.length} ${waiting} waiting); retry shortly`,
            1,
          ),
        );
        return;
      }
      job.deadline = setTimeout(() => this.#onDeadline(job), this.#options.jobTimeoutMs);
    });
  }

  /** The TaskRunner the HTTP app calls: any task's job (and its picture) runs in a worker. */
  readonly run: TaskRunner = (job) =>
    this.#submit({ ...job, type: 'job', id: this.#nextId++ }) as Promise<JobResult>;

  /**
   * A model version's signature, as a worker loads it (handlers/server/tensor-jobs.ts); with a
   * contentKey, of that content (worker-loads.ts).
   */
  describe(model: ModelRef & { readonly contentKey?: string | undefined }): Promise<ModelSignature> {
    const job = {
      type: 'describe',
      id: this.#nextId++,
      model: model.name,
      modelVersion: model.version,
      ...(model.contentKey === undefined ? {} : { contentKey: model.contentKey }),
    } as const;
    return this.#submit(job) as Promise<ModelSignature>;
  }

  /** A model version run in a worker on checked inputs (through its batcher when it batches). */
  runTensors(model: ModelRef, inputs: TensorData[]): Promise<TensorData[]> {
    const job = {
      type: 'tensors',
      id: this.#nextId++,
      model: model.name,
      modelVersion: model.version,
      inputs,
    } as const;
    return this.#submit(job) as Promise<TensorData[]>;
  }

  /**
   * A model freed in every worker (the repository API's unload; worker-loads.ts): sent to each
   * live ready worker at once, ahead of the queue and past its per-worker limit (it is no
   * inference, and a worker busy with requests must still hear it). Resolves with how many
   * versions each worker had loaded. A worker still starting has loaded nothing of it.
   */
  unloadEverywhere(model: string): Promise<number[]> {
    const ready = this.#live().filter((worker) => worker.state === 'ready');
    return Promise.all(
      ready.map(
        (worker) =>
          new Promise<number>((resolve, reject) => {
            const message = { type: 'unload', id: this.#nextId++, model } as const;
            const job: Job = {
              message,
              lane: 'light',
              resolve: (result) => resolve(result as number),
              reject,
              attempts: 1,
              holder: worker,
              deadline: undefined,
            };
            worker.jobs.set(message.id, job);
            job.deadline = setTimeout(() => this.#onDeadline(job), this.#options.jobTimeoutMs);
            worker.send(message);
          }),
      ),
    );
  }

  /** Stops the workers and starts no more. Call after in-flight requests have been answered. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const slot of this.#slots) clearTimeout(slot.restart);
    const shuttingDown = new UnavailableError('shutting_down', 'the server is shutting down', 5);
    for (const job of this.#takeQueued()) this.#answer(job, { error: shuttingDown });
    this.#started.reject(new TfliteFnError(503, 'shutting_down', 'the pool was stopped while starting'));
    await Promise.all(this.#live().map((worker) => worker.stop(STOP_GRACE_MS)));
  }
}
