/**
 * Converted models on disk: `<cache>/onnx/<tflite sha256>-c<converter version>.onnx` and, beside
 * it, the report of its conversion and verification (`.json`). Keyed by the .tflite's hash
 * and the converter's version, so a changed model or converter is converted and verified
 * again, never served from a stale file. A failed conversion or verification is stored too
 * (report only), so `tflite-fn models` can say why a model stays on LiteRT.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorInfo } from '../engine/types.js';
import { cacheDir } from '../store/paths.js';
import type { Int8KernelPath } from '../util/cpu.js';
import { CONVERTER_VERSION } from './version.js';

export interface VerificationSummary {
  /** How many photos both engines ran on. */
  readonly photos: number;
  /**
   * Photos whose top-1 (highest-scoring class, or anchor for detectors) both engines agree on;
   * absent for tasks without a scores output (see Task.scoresOutput).
   */
  readonly top1Agreement?: number;
  /** Largest difference of a uint8 output, in steps of its quantization scale. */
  readonly maxQuantizedSteps: number;
  /** Largest difference of a float32 output, absolute, and relative to max(1, |reference|). */
  readonly maxFloatDifference: number;
  readonly tolerance: string;
  readonly litertMs: number;
  readonly ortMs: number;
  /** The int8 kernel paths onnxruntime was verified on (src/util/cpu.ts): `auto` uses only these. */
  readonly int8Paths?: readonly Int8KernelPath[];
}

/** Whether batched runs of a converted graph give each item its own outputs (convert/verify.ts). */
export interface BatchVerification {
  /** True only when they do: a server may then run several requests at once. */
  readonly ok: boolean;
  /** The items in the batch verified. */
  readonly items?: number;
  /** What was found, or why the graph has no open batch dimension. */
  readonly message: string;
}

export interface ConversionReport {
  readonly converterVersion: number;
  /**
   * The served model's key (src/model/served-model.ts): the .tflite's sha256, or for a graph
   * cut short at named outputs, a hash of that and the names (see `cut`).
   */
  readonly tfliteSha256: string;
  /** For a cut graph: the whole file's sha256 and the tensors the graph stops at. */
  readonly cut?: { readonly fileSha256: string; readonly outputs: readonly string[] };
  /** The model it was made for (a catalog id or a path), for people reading the file. */
  readonly model: string;
  readonly createdAt: string;
  /** True only when the model converted and passed verification: what `auto` requires. */
  readonly ok: boolean;
  /** Where it stopped when not ok: 'convert' or 'verify'. */
  readonly failedAt?: 'convert' | 'verify';
  readonly message: string;
  readonly ops: readonly string[];
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly verification?: VerificationSummary;
  /** The batched runs' verdict; absent on reports written before batching was verified. */
  readonly batch?: BatchVerification;
}

export function convertedDir(): string {
  return join(cacheDir(), 'onnx');
}

function basePath(tfliteSha256: string): string {
  return join(convertedDir(), `${tfliteSha256}-c${CONVERTER_VERSION}`);
}

export function readReport(tfliteSha256: string): ConversionReport | undefined {
  try {
    const report = JSON.parse(readFileSync(`${basePath(tfliteSha256)}.json`, 'utf8')) as ConversionReport;
    return report.converterVersion === CONVERTER_VERSION && report.tfliteSha256 === tfliteSha256
      ? report
      : undefined;
  } catch {
    return undefined;
  }
}

export function readOnnx(tfliteSha256: string): Uint8Array {
  return readFileSync(`${basePath(tfliteSha256)}.onnx`);
}

/** Writes atomically (temp file + rename): a reader never sees half a model. */
function writeAtomically(path: string, data: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

export function writeConverted(report: ConversionReport, onnx: Uint8Array | undefined): void {
  mkdirSync(convertedDir(), { recursive: true });
  const base = basePath(report.tfliteSha256);
  // The model first, then the report that vouches for it.
  if (onnx) writeAtomically(`${base}.onnx`, onnx);
  writeAtomically(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  removeOtherVersions(report.tfliteSha256);
}

/**
 * Files an older converter wrote for the same model are never read again; left behind they
 * would ship in every bundle that takes the whole folder (Netlify's 50 MB zip). A newer
 * converter's files stay: the cache is per user, and another project may have a newer
 * tflite-fn installed.
 */
export function removeOtherVersions(tfliteSha256: string): void {
  for (const name of readdirSync(convertedDir())) {
    const version = name.startsWith(`${tfliteSha256}-c`)
      ? /-c(\d+)\.(onnx|json)$/.exec(name)?.[1]
      : undefined;
    if (version !== undefined && Number(version) < CONVERTER_VERSION) {
      rmSync(join(convertedDir(), name), { force: true });
    }
  }
}
