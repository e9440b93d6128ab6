/**
 * Runs tasks one after another. Both engines need it: a LiteRT interpreter must never be
 * entered twice at once, and an onnxruntime session already uses every thread it was given,
 * so overlapping runs would only compete. A failed task does not stop the ones after it.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  add<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles when everything queued so far has run. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
