/**
 * A converted model earns its place only by matching the reference: both engines run the same
 * inputs (real photos, preprocessed as serving does), and the ONNX model must give the same
 * top-1 on every photo and outputs within a stated tolerance of LiteRT's:
 * - uint8 outputs: at most 2 steps of the output's quantization scale (TFLite rounds half away
 *   from zero in its fixed-point rescaling, onnxruntime half to even, so 1 step happens);
 * - float32 outputs: |ort - litert| <= 1e-4 * max(1, |litert|) (summation order differs).
 *
 * A graph with an open batch dimension (convert.ts) is also run on a batch of several photos:
 * each item's outputs must equal that photo's run alone (uint8 and int32 exactly, float32
 * within the same relative tolerance: kernels may block a batch's sums differently). Only
 * then may a server batch it; a model that fails this still serves, one request per run.
 */
import { LiteRtCompiledModelAdapter } from '../engine/litert-model.js';
import { OrtCompiledModel } from '../engine/ort-model.js';
import type { CompiledModel, TensorData } from '../engine/types.js';
import { toTfliteFnError } from '../errors.js';
import { exactInt8Paths, type Int8KernelPath } from '../util/cpu.js';
import type { ConversionResult } from './convert.js';
import type { BatchVerification, VerificationSummary } from './store.js';

export const QUANTIZED_STEPS_ALLOWED = 2;
export const FLOAT_RELATIVE_ALLOWED = 1e-4;
const TOLERANCE = `uint8 outputs within ${QUANTIZED_STEPS_ALLOWED} quantization steps, float32 within ${FLOAT_RELATIVE_ALLOWED} x max(1, |value|)`;

/** Photos in the batched run: enough that items sit at different offsets, first and last. */
export const BATCH_VERIFICATION_ITEMS = 3;

export interface VerificationOutcome {
  readonly ok: boolean;
  readonly message: string;
  readonly summary: VerificationSummary;
  /** The batched runs' verdict (absent when the graph's batch dimension is not open). */
  readonly batch?: BatchVerification;
}

function argmax(values: TensorData): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

async function timed(model: CompiledModel, inputs: readonly TensorData[]): Promise<[TensorData[], number]> {
  const started = performance.now();
  const outputs = await model.run(inputs);
  return [outputs, performance.now() - started];
}

/**
 * Runs both engines on every photo's inputs. `scoresOutput` is the output whose argmax is the
 * answer (class scores, or detector anchor scores), undefined for tasks without one (masks,
 * keypoints, vectors: their outputs are checked by value tolerance only). onnxruntime runs once per int8 kernel path
 * this CPU computes exactly (see Int8KernelPath): on a CPU with VNNI that is its own path and
 * the one of CPUs without, so a conversion verified on one x86 machine holds on every other
 * (a Lambda layer built on CI, a cache moved between machines); the report says which.
 */
export async function verifyConversion(
  tflite: Uint8Array,
  conversion: ConversionResult,
  photos: readonly { readonly name: string; readonly inputs: readonly TensorData[] }[],
  scoresOutput: number | undefined,
  label: string,
  int8Paths: readonly Int8KernelPath[] = exactInt8Paths(),
): Promise<VerificationOutcome> {
  const litert = await LiteRtCompiledModelAdapter.compile(tflite, label);
  let litertMs = 0;
  const expected: TensorData[][] = [];
  try {
    for (const photo of photos) {
      const [outputs, time] = await timed(litert, photo.inputs);
      expected.push(outputs);
      litertMs += time;
    }
  } finally {
    litert.dispose();
  }
  const checks: PathCheck[] = [];
  for (const path of int8Paths)
    checks.push(await checkPath(conversion, photos, expected, scoresOutput, label, path));
  const problems = checks.flatMap((check) =>
    check.problems.map((problem) => (int8Paths.length > 1 ? `${check.path}: ${problem}` : problem)),
  );
  const maxQuantizedSteps = Math.max(0, ...checks.map((check) => check.maxQuantizedSteps));
  const maxFloatDifference = Math.max(0, ...checks.map((check) => check.maxFloatDifference));
  const serving = checks[0];
  const batch = batchVerdict(conversion, checks, int8Paths.length > 1);
  const summary: VerificationSummary = {
    photos: photos.length,
    ...(scoresOutput === undefined
      ? {}
      : { top1Agreement: Math.min(...checks.map((check) => check.top1Agreement)) }),
    maxQuantizedSteps,
    maxFloatDifference,
    tolerance: scoresOutput === undefined ? TOLERANCE : `${TOLERANCE}, same top-1 on every photo`,
    litertMs: Math.round((litertMs / Math.max(1, photos.length)) * 100) / 100,
    ortMs: Math.round(((serving?.ortMs ?? 0) / Math.max(1, photos.length)) * 100) / 100,
    int8Paths: [...int8Paths],
  };
  if (photos.length === 0)
    return { ok: false, message: 'no photos to verify on: run tflite-fn setup', summary };
  return problems.length === 0
    ? {
        ok: true,
        message: `verified on ${photos.length} photos (int8 kernels ${int8Paths.join(', ')}): ${scoresOutput === undefined ? 'every output within tolerance' : 'same top-1 on all'}, max difference ${maxQuantizedSteps} steps / ${maxFloatDifference.toExponential(1)}`,
        summary,
        ...(batch ? { batch } : {}),
      }
    : { ok: false, message: `verification failed: ${problems.slice(0, 3).join('; ')}`, summary };
}

/** The batched runs of every kernel path, as one verdict (undefined if none was tried). */
function batchVerdict(
  conversion: ConversionResult,
  checks: readonly PathCheck[],
  namePaths: boolean,
): BatchVerification | undefined {
  if (!conversion.batch.open) return { ok: false, message: conversion.batch.reason };
  const tried = checks.filter((check) => check.batch !== undefined);
  if (tried.length === 0) return undefined;
  const failed = tried.flatMap((check) =>
    check.batch?.ok ? [] : [`${namePaths ? `${check.path}: ` : ''}${check.batch?.message}`],
  );
  const items = Math.min(...tried.map((check) => check.batch?.items ?? 0));
  return failed.length === 0
    ? { ok: true, items, message: `a batch of ${items} photos gave each photo's own outputs` }
    : { ok: false, items, message: failed.join('; ') };
}

interface PathCheck {
  readonly path: Int8KernelPath;
  readonly top1Agreement: number;
  readonly maxQuantizedSteps: number;
  readonly maxFloatDifference: number;
  readonly ortMs: number;
  readonly problems: string[];
  readonly batch?: BatchVerification;
}

/**
 * Runs the first photos as one batch and compares each item with the photo's own run: the
 * largest difference, exact for integer outputs and relative for float32 ones.
 */
async function checkBatch(
  ort: OrtCompiledModel,
  conversion: ConversionResult,
  photos: readonly { readonly name: string; readonly inputs: readonly TensorData[] }[],
  alone: readonly TensorData[][],
): Promise<BatchVerification> {
  const items = Math.min(BATCH_VERIFICATION_ITEMS, photos.length);
  if (items < 2) return { ok: false, items, message: 'too few photos to verify a batch on' };
  let batched: TensorData[][];
  try {
    batched = await ort.runBatch(photos.slice(0, items).map((photo) => photo.inputs));
  } catch (error) {
    return {
      ok: false,
      items,
      message: `a batch of ${items} failed to run: ${toTfliteFnError(error).message}`,
    };
  }
  for (let item = 0; item < items; item++) {
    for (const [output, info] of conversion.outputs.entries()) {
      const got = batched[item]?.[output] as TensorData;
      const want = alone[item]?.[output] as TensorData;
      for (let i = 0; i < want.length; i++) {
        const w = want[i] as number;
        const difference = Math.abs((got[i] as number) - w);
        const allowed = info.dtype === 'float32' ? FLOAT_RELATIVE_ALLOWED * Math.max(1, Math.abs(w)) : 0;
        if (!(difference <= allowed))
          return {
            ok: false,
            items,
            message: `item ${item} of a batch of ${items}: output '${info.name}' differs from its run alone by ${difference} at ${i}`,
          };
      }
    }
  }
  return { ok: true, items, message: `a batch of ${items} photos gave each photo's own outputs` };
}

/** Runs the ONNX model with one path's int8 kernels and compares every output with LiteRT's. */
async function checkPath(
  conversion: ConversionResult,
  photos: readonly { readonly name: string; readonly inputs: readonly TensorData[] }[],
  expected: readonly TensorData[][],
  scoresOutput: number | undefined,
  label: string,
  path: Int8KernelPath,
): Promise<PathCheck> {
  const ort = await OrtCompiledModel.compile(
    conversion.onnx,
    conversion,
    label,
    1,
    path,
    conversion.batch.open,
  );
  try {
    const alone: TensorData[][] = [];
    let top1Agreement = 0;
    let maxQuantizedSteps = 0;
    let maxFloatDifference = 0;
    let ortMs = 0;
    const problems: string[] = [];
    for (const [index, photo] of photos.entries()) {
      const reference = expected[index] as TensorData[];
      const [actual, ortTime] = await timed(ort, photo.inputs);
      alone.push(actual);
      ortMs += ortTime;
      if (scoresOutput !== undefined) {
        const scores = reference[scoresOutput] as TensorData;
        const expectedTop = argmax(scores);
        const actualTop = argmax(actual[scoresOutput] as TensorData);
        // A tie is no disagreement: LiteRT scores onnxruntime's pick as high as its own (a
        // saturated mask holds many exact 1.0s, and which comes first is summation order).
        if (scores[actualTop] === scores[expectedTop]) top1Agreement++;
        else problems.push(`${photo.name}: top-1 ${actualTop} on onnxruntime, ${expectedTop} on LiteRT`);
      }
      conversion.outputs.forEach((info, output) => {
        const a = actual[output] as TensorData;
        const b = reference[output] as TensorData;
        for (let i = 0; i < b.length; i++) {
          const want = b[i] as number;
          const difference = Math.abs((a[i] as number) - want);
          if (info.dtype === 'float32') {
            maxFloatDifference = Math.max(maxFloatDifference, difference / Math.max(1, Math.abs(want)));
          } else {
            maxQuantizedSteps = Math.max(maxQuantizedSteps, difference);
          }
        }
      });
    }
    if (maxQuantizedSteps > QUANTIZED_STEPS_ALLOWED)
      problems.push(
        `a uint8 output differs by ${maxQuantizedSteps} steps (allowed ${QUANTIZED_STEPS_ALLOWED})`,
      );
    if (maxFloatDifference > FLOAT_RELATIVE_ALLOWED)
      problems.push(
        `a float32 output differs by ${maxFloatDifference.toExponential(2)} (allowed ${FLOAT_RELATIVE_ALLOWED})`,
      );
    const batch = conversion.batch.open ? await checkBatch(ort, conversion, photos, alone) : undefined;
    return {
      path,
      top1Agreement,
      maxQuantizedSteps,
      maxFloatDifference,
      ortMs,
      problems,
      ...(batch ? { batch } : {}),
    };
  } finally {
    ort.dispose();
  }
}
