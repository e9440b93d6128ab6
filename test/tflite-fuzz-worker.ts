/**
 * Worker for the converter's fuzz test (convert.test.ts): applies each mutation to the model
 * and runs both readers of a .tflite file on it, the LiteRT gate (assertTfliteIntegrity) and
 * the converter. Each must succeed or throw a TfliteFnError. The test thread watches the
 * time each case takes (a hang) and the worker's heap limit (a wild allocation); the worker
 * reports array-buffer memory itself, which the heap limit does not cover.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { assertTfliteIntegrity } from '../src/engine/tflite-check.js';
import { TfliteFnError } from '../src/errors.js';

export interface Mutation {
  readonly at: number;
  readonly bytes: readonly number[];
}

export type FuzzMessage =
  | { readonly started: number }
  | { readonly failed: number; readonly error: string }
  | { readonly done: true; readonly refused: number; readonly converted: number };

const { model, mutations, maxArrayBufferBytes } = workerData as {
  model: Uint8Array;
  mutations: readonly Mutation[];
  maxArrayBufferBytes: number;
};
const port = parentPort;
if (!port) throw new Error('run as a worker');

let refused = 0;
let converted = 0;
mutations.forEach((mutation, index) => {
  port.postMessage({ started: index } satisfies FuzzMessage);
  const bytes = model.slice();
  bytes.set(mutation.bytes, mutation.at);
  try {
    assertTfliteIntegrity(bytes, 'fuzzed');
    convertTfliteToOnnx(bytes, 'fuzzed');
    converted++;
  } catch (error) {
    if (error instanceof TfliteFnError) refused++;
    else
      port.postMessage({
        failed: index,
        error: String((error as Error).stack ?? error),
      } satisfies FuzzMessage);
  }
  const arrayBuffers = process.memoryUsage().arrayBuffers;
  if (arrayBuffers > maxArrayBufferBytes)
    port.postMessage({
      failed: index,
      error: `array buffers reached ${arrayBuffers} bytes`,
    } satisfies FuzzMessage);
});
port.postMessage({ done: true, refused, converted } satisfies FuzzMessage);
