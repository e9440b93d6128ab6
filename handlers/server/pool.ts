/**
 * A pool of worker processes, each with its models loaded, behind a bounded queue.
 *
 * - Full queue: the request is refused at once with 503 + Retry-After, rather than piling up.
 * - A worker that dies (crash, OOM, kill) is replaced; the requests it held are retried once
 *   on another worker (classification has no side effects), else answered with a 503.
 * - A job that takes longer than the timeout is answered with 504.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Classification, ClassifyOptions } from '../../src/classify.js';
import { TfliteFnError, UnavailableError } from '../../src/errors.js';
import type { Detector } from '../../src/http/app.js';
import type { JobMessage, JobResult, SerializedError, WorkerMessage } from './protocol.js';

export interface PoolOptions {
  readonly workers: number;
  /** Jobs that may wait for a worker; one more is refused with 503. */
  readonly queueSize: number;
  /** Jobs one worker runs at once: 2 lets it decode one image while it infers another. */
  readonly perWorker?: number;
  readonly jobTimeoutMs: number;
  /** Environment for the workers (models to preload, threads, limits). */
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (event: Record<string, unknown>) => void;
}

interface Job {
  readonly message: JobMessage;
  readonly resolve: (result: JobResult) => void;
  readonly reject: (error: TfliteFnError) => void;
  attempts: number;
  timer?: NodeJS.Timeout;
}

interface Worker {
  readonly process: ChildProcess;
  ready: boolean;
  readonly jobs: Map<number, Job>;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

function rebuild(error: SerializedError): TfliteFnError {
  return new TfliteFnError(error.status, error.code, error.message, { expose: error.expose });
}

export class WorkerPool {
  readonly #options: Required<Omit<PoolOptions, 'env' | 'log'>> & Pick<PoolOptions, 'env' | 'log'>;
  readonly #workers = new Set<Worker>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #stopping = false;
  /** Per model: the latest load and warm-up time a worker reported, for /metrics. */
  readonly modelLoadMs = new Map<string, number>();
  restarts = 0;

  constructor(options: PoolOptions) {
    this.#options = { perWorker: 2, ...options };
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    let count = 0;
    for (const worker of this.#workers) count += worker.jobs.size;
    return count;
  }

  /** Which engine each preloaded model runs on (as the workers reported it), for the logs. */
  readonly engines = new Map<string, { engine: string; reason: string }>();

  get readyWorkers(): number {
    return [...this.#workers].filter((worker) => worker.ready).length;
  }

  get size(): number {
    return this.#options.workers;
  }

  /** PIDs of the worker processes (for operators, and the tests that kill one). */
  get pids(): number[] {
    return [...this.#workers].map((worker) => worker.process.pid ?? 0);
  }

  /** Starts every worker; resolves once all have loaded and warmed their models. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.#options.workers }, () => this.#spawn()));
  }

  #spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = fork(WORKER_SCRIPT, [], {
        serialization: 'advanced',
        env: { TFLITE_FN_THREADS: '1', ...process.env, ...this.#options.env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const worker: Worker = { process: child, ready: false, jobs: new Map() };
      this.#workers.add(worker);
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          worker.ready = true;
          for (const [model, ms] of Object.entries(message.loadMs)) {
            this.modelLoadMs.set(model, ms + (message.warmUpMs[model] ?? 0));
          }
          for (const [model, choice] of Object.entries(message.engines)) this.engines.set(model, choice);
          resolve();
          this.#dispatch();
        } else if (message.type === 'failed') {
          reject(rebuild(message.error));
        } else {
          const job = worker.jobs.get(message.id);
          if (!job) return; // answered already (timed out)
          worker.jobs.delete(message.id);
          clearTimeout(job.timer);
          if (message.type === 'result') job.resolve(message.result);
          else job.reject(rebuild(message.error));
          this.#dispatch();
        }
      });
      child.on('exit', (code, signal) => this.#onExit(worker, code, signal, reject));
    });
  }

  #onExit(
    worker: Worker,
    code: number | null,
    signal: NodeJS.Signals | null,
    rejectStart: (e: Error) => void,
  ): void {
    this.#workers.delete(worker);
    const wasReady = worker.ready;
    if (!wasReady)
      rejectStart(
        new TfliteFnError(500, 'worker_failed', `a worker exited while loading models (${signal ?? code})`),
      );
    // Requests the worker held go back to the front of the queue, once.
    const orphans = [...worker.jobs.values()];
    for (const job of orphans.reverse()) {
      clearTimeout(job.timer);
      if (job.attempts < 2 && !this.#stopping) this.#queue.unshift(job);
      else
        job.reject(
          new UnavailableError('worker_crashed', 'the worker handling this request stopped; retry', 1),
        );
    }
    if (this.#stopping) return;
    this.#options.log?.({
      level: 'warn',
      msg: 'worker exited; starting a new one',
      pid: worker.process.pid,
      code,
      signal,
      retried: orphans.length,
    });
    if (wasReady) {
      this.restarts++;
      this.#spawn().catch((error: unknown) =>
        this.#options.log?.({ level: 'error', msg: 'replacement worker failed', error: String(error) }),
      );
    }
  }

  #dispatch(): void {
    for (const worker of this.#workers) {
      while (worker.ready && worker.jobs.size < this.#options.perWorker && this.#queue.length > 0) {
        const job = this.#queue.shift() as Job;
        job.attempts++;
        const id = job.message.id;
        worker.jobs.set(id, job);
        job.timer = setTimeout(() => {
          if (!worker.jobs.delete(id)) return;
          job.reject(
            new TfliteFnError(
              504,
              'timeout',
              `the request took longer than ${this.#options.jobTimeoutMs} ms`,
            ),
          );
        }, this.#options.jobTimeoutMs);
        worker.process.send(job.message);
      }
    }
  }

  #submit(message: JobMessage): Promise<JobResult> {
    if (this.#stopping) {
      return Promise.reject(new UnavailableError('shutting_down', 'the server is shutting down', 5));
    }
    if (this.#queue.length >= this.#options.queueSize) {
      const waiting = this.#queue.length;
      return Promise.reject(
        new UnavailableError(
          'overloaded',
          `the server is busy (${waiting} requests waiting); retry shortly`,
          1,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject, attempts: 0 });
      this.#dispatch();
    });
  }

  async classify(image: Uint8Array, options: ClassifyOptions): Promise<Classification> {
    const { model, top, resize } = options;
    const message: JobMessage = {
      type: 'classify',
      id: this.#nextId++,
      image,
      options: { model, top, resize },
    };
    return (await this.#submit(message)) as Classification;
  }

  /** The Detector the HTTP app calls: detection (and the annotated photo) in a worker. */
  readonly detect: Detector = async (image, options) => {
    const { model, tiling, annotate } = options;
    const message: JobMessage = {
      type: 'detect',
      id: this.#nextId++,
      image,
      options: { model, tiling, annotate },
    };
    return (await this.#submit(message)) as Awaited<ReturnType<Detector>>;
  };

  /** Stops the workers. Call after in-flight requests have been answered. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.process.exitCode !== null) return resolve();
          worker.process.once('exit', () => resolve());
          worker.process.disconnect();
        }),
    );
    await Promise.all(exits);
  }
}
