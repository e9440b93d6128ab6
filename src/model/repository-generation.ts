/**
 * One loaded copy of a repository model version. A version's file can change or disappear
 * while requests run on it: the repository then retires the copy (new requests get the new one,
 * or none), and the copy frees its engine once its last request has released it. So a request
 * always finishes on the model it started on, and no engine outlives its users.
 */
import type { EngineName } from '../engine/select.js';
import type { LoadedModel } from '../tasks/task.js';

export class Generation {
  #users = 0;
  #retired = false;
  #freed = false;
  #loaded: Promise<LoadedModel<unknown>> | undefined;
  readonly #load: () => Promise<LoadedModel<unknown>>;

  constructor(
    /** Loads the copy; called once, when `loaded` is first asked for. */
    load: () => Promise<LoadedModel<unknown>>,
    /** What the copy was made from (repository-version.ts's contentKey). */
    readonly contentKey: string,
    /** The engine it is planned to run on, when it is loaded in another process (repository.ts). */
    readonly engine?: EngineName,
  ) {
    this.#load = load;
  }

  /** The loaded model; the load starts on the first call (at once, or on first use). */
  get loaded(): Promise<LoadedModel<unknown>> {
    if (!this.#loaded) {
      this.#loaded = this.#load();
      this.#loaded.catch(() => undefined); // a failed load is reported by whoever awaits it
    }
    return this.#loaded;
  }

  /** Whether its load was asked for (so it holds, or is building, an engine). */
  get loadStarted(): boolean {
    return this.#loaded !== undefined;
  }

  get users(): number {
    return this.#users;
  }

  get retired(): boolean {
    return this.#retired;
  }

  /** Whether its engine has been given back. */
  get freed(): boolean {
    return this.#freed;
  }

  acquire(): void {
    this.#users++;
  }

  release(): void {
    this.#users = Math.max(0, this.#users - 1);
    this.#freeIfDone();
  }

  /** No new users from now on; freed when the current ones are done. */
  retire(): void {
    this.#retired = true;
    this.#freeIfDone();
  }

  #freeIfDone(): void {
    if (!this.#retired || this.#users > 0 || this.#freed) return;
    this.#freed = true;
    // A copy never asked for was never loaded: nothing to give back.
    this.#loaded?.then(
      (model) => model.engine.dispose(),
      () => undefined,
    );
  }
}
