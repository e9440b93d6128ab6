/**
 * One server worker process as the pool sees it: the child, its state and the jobs it holds.
 * It reports what happens to it (ready, a reply, gone) and decides nothing: every policy
 * (what to retry, when to replace it, what a client is told) is the pool's.
 *
 *   loading ──'ready'──▶ ready ──kill()──▶ retiring
 *      │                   │                  │
 *      └───────────────────┴──── exit ────────┴──▶ gone
 *
 * 'gone' is reported exactly once, with the state the worker left from: 'loading' means it
 * never became usable (its models failed to load, or it was killed while loading).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WORKER_NICE } from '../../src/config/index.js';
import { jobMessages } from './job-pieces.js';
import type {
  AnyJobMessage,
  ReadyMessage,
  ReplyMessage,
  SerializedError,
  ServerMessage,
  WorkerMessage,
} from './protocol.js';

export type WorkerState = 'loading' | 'ready' | 'retiring' | 'gone';

export interface WorkerExit {
  /** The state the worker was in when it went. */
  readonly from: Exclude<WorkerState, 'gone'>;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it could not load its models, as it reported before exiting. */
  readonly loadError: SerializedError | undefined;
  /** Set when the process could not be started at all. */
  readonly spawnError: Error | undefined;
}

export interface WorkerEvents<J> {
  ready(worker: WorkerProcess<J>, message: ReadyMessage): void;
  reply(worker: WorkerProcess<J>, message: ReplyMessage): void;
  gone(worker: WorkerProcess<J>, exit: WorkerExit): void;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

export class WorkerProcess<J> {
  /** Jobs sent to this worker and not yet answered. */
  readonly jobs = new Map<number, J>();
  #state: WorkerState = 'loading';
  #loadError: SerializedError | undefined;
  readonly #child: ChildProcess;
  readonly #events: WorkerEvents<J>;
  readonly #gone: Promise<void>;

  constructor(
    /** The pool's slot this worker fills. */
    readonly slot: number,
    env: NodeJS.ProcessEnv,
    /** Niceness to run at (raised from the server's own; see worker-nice.ts). */
    readonly nice: number,
    events: WorkerEvents<J>,
  ) {
    this.#events = events;
    this.#child = fork(WORKER_SCRIPT, [], {
      serialization: 'advanced',
      env: { ...env, [WORKER_NICE.name]: String(nice) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // At once, so it loads its models niced already; the worker then renices the threads its
    // runtime started meanwhile (on Linux niceness is per thread, and inherited by new ones).
    if (this.#child.pid !== undefined) {
      try {
        setPriority(this.#child.pid, nice);
      } catch {
        // It already exited, or the system refuses: the worker's own call reports it.
      }
    }
    this.#child.on('message', (message: WorkerMessage) => this.#onMessage(message));
    this.#gone = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        const end = () => {
          this.#end(code, signal, undefined);
          resolve();
        };
        // The IPC channel may still hold messages (a 'failed' sent just before exiting): wait
        // until it is drained and closed. ('close' is no help: it never comes after our own
        // disconnect().) The timer only guards against a channel that never reports closing.
        if (!this.#child.connected) return end();
        const fallback = setTimeout(end, 1000);
        this.#child.once('disconnect', () => {
          clearTimeout(fallback);
          end();
        });
      });
      this.#child.on('error', (error) => {
        // A process that never started gets no 'exit' for sure; any other error (a failed
        // kill or send) leaves it running, and its exit is reported when it comes.
        if (this.#child.pid !== undefined) return;
        this.#end(null, null, error);
        resolve();
      });
    });
  }

  get state(): WorkerState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Sends a job: its large payloads in pieces first (job-pieces.ts), each written once the one
   * before is, so the server's loop copies a piece at a time and other jobs' messages slip in
   * between. A small job is written at once, in the order jobs are sent.
   */
  send(message: AnyJobMessage): void {
    void this.#sendInPieces(message);
  }

  async #sendInPieces(message: AnyJobMessage): Promise<void> {
    let first = true;
    for (const part of jobMessages(message)) {
      if (!first && this.#state !== 'ready') return; // killed or leaving: the pool deals with its jobs
      first = false;
      if (!(await this.#write(part))) return;
    }
  }

  /** Writes a message; resolves false if it could not be (the worker is dying). */
  #write(message: ServerMessage): Promise<boolean> {
    // A send fails only when the worker is dying: its exit hands the job back to the pool.
    return new Promise((resolve) =>
      this.#child.send(message, undefined, undefined, (error) => resolve(!error)),
    );
  }

  /**
   * Kills it now (SIGKILL: it may be stuck in native code and deaf to anything gentler).
   * From here on it takes no job and its replies are ignored.
   */
  kill(): void {
    if (this.#state === 'gone') return;
    this.#state = 'retiring';
    this.#child.kill('SIGKILL');
  }

  /** Asks it to leave (closing its IPC channel ends it); kills it if it has not after graceMs. */
  async stop(graceMs: number): Promise<void> {
    if (this.#state === 'gone') return;
    if (this.#state !== 'retiring') this.#state = 'retiring';
    if (this.#child.connected) this.#child.disconnect();
    const force = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#gone;
    clearTimeout(force);
  }

  #onMessage(message: WorkerMessage): void {
    if (message.type === 'failed') {
      this.#loadError = message.error;
    } else if (message.type === 'ready') {
      if (this.#state !== 'loading') return;
      this.#state = 'ready';
      this.#events.ready(this, message);
    } else if (this.#state === 'ready') {
      this.#events.reply(this, message);
    }
  }

  #end(code: number | null, signal: NodeJS.Signals | null, spawnError: Error | undefined): void {
    if (this.#state === 'gone') return;
    const from = this.#state;
    this.#state = 'gone';
    this.#events.gone(this, { from, code, signal, loadError: this.#loadError, spawnError });
  }
}
