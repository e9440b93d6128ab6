/**
 * Imported first by worker.ts, for its effect: lowers the worker's CPU priority to what the
 * pool asked for, before the native libraries it loads next start their threads.
 */
import { reniceSelf, WORKER_NICE_ENV } from './worker-nice.js';

const nice = Number(process.env[WORKER_NICE_ENV]);
if (Number.isInteger(nice)) {
  const failed = reniceSelf(nice);
  if (failed) console.error(`worker: could not lower its CPU priority to nice ${nice}: ${failed}`);
}
