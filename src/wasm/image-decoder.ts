/**
 * A thread that decodes images for one guest worker, so that no decode runs on the owner
 * thread: part of a decode is synchronous JavaScript (BMP), which would hold up every other
 * request and the run's own deadline timer. When the guest's run ends, this thread is
 * terminated with whatever it was doing.
 */
import { parentPort } from 'node:worker_threads';
import { toTfliteFnError } from '../errors.js';
import { type DecodeRequest, decodeForGuest } from './guest-decode.js';

export interface DecodeJob {
  readonly id: number;
  readonly request: DecodeRequest;
  readonly deadline: number;
}

export type DecodeAnswer =
  | { readonly id: number; readonly pixels: Uint8Array }
  | { readonly id: number; readonly error: string };

parentPort?.on('message', (job: DecodeJob) => {
  decodeForGuest(job.request, job.deadline).then(
    (pixels) => {
      // A copy of its own can be handed over without a second copy (sharp's buffers may not be).
      const owned = pixels.slice();
      parentPort?.postMessage({ id: job.id, pixels: owned } satisfies DecodeAnswer, [owned.buffer]);
    },
    (error: unknown) =>
      parentPort?.postMessage({ id: job.id, error: toTfliteFnError(error).message } satisfies DecodeAnswer),
  );
});
