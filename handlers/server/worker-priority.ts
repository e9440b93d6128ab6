/**
 * Imported first by worker.ts, for its effect: lowers the worker's CPU priority to what the
 * pool asked for, before the native libraries it loads next start their threads.
 */
import { WORKER_NICE } from '../../src/config/index.js';
import { reniceSelf } from './worker-nice.js';

const nice = WORKER_NICE.read();
if (nice !== undefined) {
  const failed = reniceSelf(nice);
  if (failed) console.error(`worker: could not lower its CPU priority to nice ${nice}: ${failed}`);
}
