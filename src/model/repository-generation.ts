/**
 * One loaded copy of a repository model version. A version's file can change or disappear
 * while requests run on it: the repository then retires the copy (new requests get the new one,
 * or none), and the copy frees its engine once its last request has released it. So a request
 * always finishes on the model it started on, and no engine outlives its users.
 */
import type { LoadedModel } from '../tasks/task.js';

export class Generation {
  #users = 0;
  #retired = false;
  #freed = false;

  constructor(
    readonly loaded: Promise<LoadedModel<unknown>>,
    /** What the copy was made from (repository-version.ts's contentKey). */
    readonly contentKey: string,
  ) {
    loaded.catch(() => undefined); // a failed load is reported by whoever awaits it
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
    this.loaded.then(
      (model) => model.engine.dispose(),
      () => undefined,
    );
  }
}
