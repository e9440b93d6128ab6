/**
 * A converted model earns its place only by matching the reference: both engines run the same
 * inputs (real photos, preprocessed as serving does), and the ONNX model must give the same
 * top-1 on every photo and outputs within a stated tolerance of LiteRT's:
 * - uint8 outputs: at most 2 steps of the output's quantization scale (TFLite rounds half away
 *   from zero in its fixed-point rescaling, onnxruntime half to even, so 1 step happens);
 * - float32 outputs: |ort - litert| <= 1e-4 * max(1, |litert|) (summation order differs).
 */
import { LiteRtCompiledModelAdapter } from '../engine/litert-model.js';
import { OrtCompiledModel } from '../engine/ort-model.js';
import type { CompiledModel, TensorData } from '../engine/types.js';
import { exactInt8Paths, type Int8KernelPath } from '../util/cpu.js';
import type { ConversionResult } from './convert.js';
import type { VerificationSummary } from './store.js';

export const QUANTIZED_STEPS_ALLOWED = 2;
export const FLOAT_RELATIVE_ALLOWED = 1e-4;
const TOLERANCE = `uint8 outputs within ${QUANTIZED_STEPS_ALLOWED} quantization steps, float32 within ${FLOAT_RELATIVE_ALLOWED} x max(1, |value|)`;

export interface VerificationOutcome {
  readonly ok: boolean;
  readonly message: string;
  readonly summary: VerificationSummary;
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
      }
    : { ok: false, message: `verification failed: ${problems.slice(0, 3).join('; ')}`, summary };
}

interface PathCheck {
  readonly path: Int8KernelPath;
  readonly top1Agreement: number;
  readonly maxQuantizedSteps: number;
  readonly maxFloatDifference: number;
  readonly ortMs: number;
  readonly problems: string[];
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
  const ort = await OrtCompiledModel.compile(conversion.onnx, conversion, label, 1, path);
  try {
    let top1Agreement = 0;
    let maxQuantizedSteps = 0;
    let maxFloatDifference = 0;
    let ortMs = 0;
    const problems: string[] = [];
    for (const [index, photo] of photos.entries()) {
      const reference = expected[index] as TensorData[];
      const [actual, ortTime] = await timed(ort, photo.inputs);
      ortMs += ortTime;
      if (scoresOutput !== undefined) {
        const expectedTop = argmax(reference[scoresOutput] as TensorData);
        const actualTop = argmax(actual[scoresOutput] as TensorData);
        if (expectedTop === actualTop) top1Agreement++;
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
    return { path, top1Agreement, maxQuantizedSteps, maxFloatDifference, ortMs, problems };
  } finally {
    ort.dispose();
  }
}
