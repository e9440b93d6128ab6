/**
 * Which engine runs a model. `litert` (LiteRT.js, TFLite in WebAssembly) is the reference and
 * runs every model; `ort` (onnxruntime-node, native) runs a model converted to ONNX, 2-4x
 * faster, once the conversion has been verified against LiteRT (src/convert). `auto`, the
 * default, takes `ort` exactly when such a verified conversion is on disk, and otherwise
 * `litert`, and says why either way.
 */
import { availableParallelism } from 'node:os';
import { ENGINE, ENGINE_SETTINGS, THREADS } from '../config/index.js';
import { type ConversionReport, readOnnx, readReport } from '../convert/store.js';
import { ModelLoadError } from '../errors.js';
import { exactInt8Paths, type Int8KernelPath } from '../util/cpu.js';
import { LiteRtCompiledModelAdapter } from './litert-model.js';
import { OrtCompiledModel } from './ort-model.js';
import { firstLine } from './run-checks.js';
import type { CompiledModel } from './types.js';

export type EngineName = 'litert' | 'ort';
export type EngineSetting = (typeof ENGINE_SETTINGS)[number];
export { ENGINE_SETTINGS };

/** The setting from `--engine` or TFLITE_FN_ENGINE; a wrong value is an error, not a guess. */
export function parseEngineSetting(value?: string): EngineSetting {
  if (value === undefined) return ENGINE.value();
  return value === '' ? 'auto' : ENGINE.parse(value, '--engine');
}

/**
 * Intra-op threads for onnxruntime: TFLITE_FN_THREADS when set (Lambda deploys 1: one vCPU),
 * else the CPUs this process may use, at most 4 (past that, a MobileNet gains nothing).
 */
export function ortThreads(): number {
  const configured = THREADS.read();
  if (configured !== undefined) return configured;
  return Math.min(availableParallelism(), 4);
}

export interface EngineChoice {
  readonly model: CompiledModel;
  readonly engine: EngineName;
  /** Why this engine: shown by `tflite-fn models`, in logs and in load errors. */
  readonly reason: string;
  /** On ort: the int8 kernels it runs with (recorded by benchmarks beside the CPU flags). */
  readonly int8Path?: Int8KernelPath;
}

interface Plan {
  readonly engine: EngineName;
  readonly reason: string;
  readonly ready: boolean;
  /** The verified conversion, when the plan is ort and ready. */
  readonly report?: ConversionReport;
  /** The int8 kernels to run it with: the fastest this CPU computes exactly that were verified. */
  readonly int8Path?: Int8KernelPath;
}

/**
 * The int8 path for a verified conversion here, or why there is none: a conversion verified
 * only on a CPU without VNNI has not been checked on VNNI kernels, but its own path runs
 * exactly on every x86 CPU, so it is taken; one verified on another architecture is not.
 */
function int8PathFor(report: ConversionReport): { path: Int8KernelPath } | { why: string } {
  const verified = report.verification?.int8Paths ?? [];
  const exact = exactInt8Paths();
  const path = exact.find((candidate) => verified.includes(candidate));
  if (path) return { path };
  return {
    why: `no conversion verified on this CPU's int8 kernels (verified on ${verified.join(', ') || 'none'}; this CPU computes ${exact.join(', ')} exactly; run: npx tflite-fn setup here)`,
  };
}

function planFor(tfliteSha256: string, setting: EngineSetting): Plan {
  if (setting === 'litert') return { engine: 'litert', reason: 'litert asked for', ready: true };
  const report = readReport(tfliteSha256);
  const kernels = report?.ok ? int8PathFor(report) : undefined;
  if (report && kernels && 'path' in kernels)
    return { engine: 'ort', reason: report.message, ready: true, report, int8Path: kernels.path };
  const why =
    kernels && 'why' in kernels
      ? kernels.why
      : report
        ? `no verified ONNX conversion (${report.message})`
        : 'not converted yet (run: npx tflite-fn setup)';
  return setting === 'ort'
    ? { engine: 'ort', reason: why, ready: false }
    : { engine: 'litert', reason: why, ready: true };
}

/** What `auto` would pick for a model, without compiling anything. */
export function plannedEngine(
  tfliteSha256: string,
  setting: EngineSetting,
): { engine: EngineName; reason: string; ready: boolean } {
  const { engine, reason, ready } = planFor(tfliteSha256, setting);
  return { engine, reason, ready };
}

let compiledHere = 0;

/**
 * Engine sessions this process has compiled so far: the server's main process must stay at
 * zero for repository models (its workers load them), and its tests hold it to that.
 */
export function enginesCompiledHere(): number {
  return compiledHere;
}

/**
 * `tflite` is the model's bytes, or how to read them: on the native engine they are not read
 * at all (the converted model stands in for them), so a deployment short of space may ship
 * only the .onnx files.
 */
export async function compileWithEngine(
  tflite: Uint8Array | (() => Promise<Uint8Array>),
  tfliteSha256: string,
  label: string,
  setting: EngineSetting,
): Promise<EngineChoice> {
  compiledHere++;
  const bytes = async () => (typeof tflite === 'function' ? tflite() : tflite);
  const plan = planFor(tfliteSha256, setting);
  if (plan.engine === 'litert')
    return {
      model: await LiteRtCompiledModelAdapter.compile(await bytes(), label),
      engine: 'litert',
      reason: plan.reason,
    };
  const report = plan.report;
  if (!plan.ready || !report || !plan.int8Path)
    throw new ModelLoadError(`engine ort was asked for ${label}, but it has ${plan.reason}`);
  try {
    let onnx: Uint8Array;
    try {
      onnx = readOnnx(tfliteSha256);
    } catch (cause) {
      throw new ModelLoadError(`the converted ${label} is missing; run: npx tflite-fn setup`, { cause });
    }
    const batchable = report.batch?.ok === true;
    const model = await OrtCompiledModel.compile(onnx, report, label, ortThreads(), plan.int8Path, batchable);
    return { model, engine: 'ort', reason: plan.reason, int8Path: plan.int8Path };
  } catch (error) {
    if (setting === 'ort') throw error;
    // auto promised a working answer: the reference engine gives one.
    const reason = `onnxruntime failed (${firstLine(error)}); using litert`;
    return {
      model: await LiteRtCompiledModelAdapter.compile(await bytes(), label),
      engine: 'litert',
      reason,
    };
  }
}
