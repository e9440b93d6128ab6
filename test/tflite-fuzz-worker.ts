/**
 * Worker for the converter's fuzz test (convert.test.ts): applies each mutation to the model
 * and runs every user of the TFLite reader on it: the LiteRT gate (assertTfliteIntegrity), the
 * converter, a graph cut at the model's outputs and the constants reader on every tensor.
 * Each must succeed or throw a TfliteFnError (only the first two decide "refused"). The test thread watches the
 * time each case takes (a hang) and the worker's heap limit (a wild allocation); the worker
 * reports array-buffer memory itself, which the heap limit does not cover.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { TfliteFnError } from '../src/errors.js';
import { assertTfliteIntegrity } from '../src/tflite/check.js';
import { ModelConstants } from '../src/tflite/constants.js';
import { cutGraph } from '../src/tflite/cut.js';
import { readTfliteModel } from '../src/tflite/read.js';

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

function report(index: number, error: unknown): void {
  port?.postMessage({ failed: index, error: String((error as Error).stack ?? error) } satisfies FuzzMessage);
}

/** Runs `read`; a TfliteFnError is a fine answer to a mutated file, anything else escapes. */
function refusedAtMost(read: () => unknown): void {
  try {
    read();
  } catch (error) {
    if (!(error instanceof TfliteFnError)) throw error;
  }
}

/** The cut and the constants reader, on a file the gate let through. */
function readTheRest(bytes: Uint8Array): void {
  const subgraph = readTfliteModel(bytes, 'fuzzed').subgraphs[0];
  const names = (subgraph?.tensors ?? []).map((tensor) => tensor.name);
  const outputs = (subgraph?.outputs ?? []).map((index) => names[index] ?? '');
  refusedAtMost(() => assertTfliteIntegrity(cutGraph(bytes, outputs, 'fuzzed'), 'cut'));
  const constants = ModelConstants.open(bytes, 'fuzzed');
  for (const name of names) refusedAtMost(() => constants.tensor(name));
}

let refused = 0;
let converted = 0;
mutations.forEach((mutation, index) => {
  port.postMessage({ started: index } satisfies FuzzMessage);
  const bytes = model.slice();
  bytes.set(mutation.bytes, mutation.at);
  let admitted = false;
  try {
    assertTfliteIntegrity(bytes, 'fuzzed');
    admitted = true;
    convertTfliteToOnnx(bytes, 'fuzzed');
    converted++;
  } catch (error) {
    if (error instanceof TfliteFnError) refused++;
    else report(index, error);
  }
  if (admitted) {
    try {
      refusedAtMost(() => readTheRest(bytes));
    } catch (error) {
      report(index, error);
    }
  }
  const arrayBuffers = process.memoryUsage().arrayBuffers;
  if (arrayBuffers > maxArrayBufferBytes)
    report(index, new Error(`array buffers reached ${arrayBuffers} bytes`));
});
port.postMessage({ done: true, refused, converted } satisfies FuzzMessage);
