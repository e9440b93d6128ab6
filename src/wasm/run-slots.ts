/**
 * How many guests run at once in this process. Each holds a worker thread, its linear memory
 * (up to the memory cap, 512 MB by default) and maybe an image-decoder thread, so a server
 * serving a program must not start one per concurrent request. Runs beyond the limit wait
 * for a slot, but never past their own deadline: the wait is part of the run's time, so a
 * request gets its answer (or its timeout) within the time it was given.
 */
import { availableParallelism } from 'node:os';

/**
 * Two per core, eight at least: a run that waits in host calls or sleeps until its deadline
 * holds a slot without using a core, and a few such runs must not keep every other request
 * waiting. The bound is on memory: at most this many guest memories at once.
 */
export const MAX_CONCURRENT_RUNS = Math.max(8, 2 * availableParallelism());

let running = 0;
const waiting: (() => void)[] = [];

/** Resolves true with a slot taken, or false if the deadline (Date.now() time) came first. */
export function takeSlot(deadline: number): Promise<boolean> {
  if (running < MAX_CONCURRENT_RUNS) {
    running++;
    return Promise.resolve(true);
  }
  return new Promise<boolean>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      running++;
      resolve(true);
    };
    const timer = setTimeout(
      () => {
        waiting.splice(waiting.indexOf(wake), 1);
        resolve(false);
      },
      Math.max(0, deadline - Date.now()),
    );
    waiting.push(wake);
  });
}

export function releaseSlot(): void {
  running--;
  waiting.shift()?.();
}

/** Runs in progress and waiting, for tests and metrics. */
export function sandboxLoad(): { readonly running: number; readonly waiting: number } {
  return { running, waiting: waiting.length };
}
