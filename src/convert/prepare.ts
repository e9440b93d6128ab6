/**
 * Convert-and-verify for one catalog model, as set-up, `tflite-fn convert` and the layer build
 * run it: convert the .tflite, run both engines on the verification photos preprocessed the
 * way serving does, and store the ONNX model with its report (or the report of why not).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from '../engine/types.js';
import { toTfliteFnError } from '../errors.js';
import { openImage } from '../image/decode.js';
import type { ResizeMode } from '../image/layout.js';
import { resizeToRgb, rgbToTensor } from '../image/to-tensor.js';
import type { ModelCatalog } from '../model/catalog.js';
import type { ModelDescriptor } from '../model/descriptor.js';
import { zerosFor } from '../model/load.js';
import { sha256Hex } from '../model/model-file.js';
import { servedModelBytes, servedModelKey } from '../model/served-model.js';
import type { PinnedFile } from '../store/fetch.js';
import { sampleCacheDir } from '../store/paths.js';
import { VERIFICATION_PHOTOS } from '../store/samples.js';
import { type AnyTask, taskById } from '../tasks/index.js';
import { CONVERTER_VERSION, type ConversionResult, convertTfliteToOnnx } from './convert.js';
import { type ConversionReport, readReport, removeOtherVersions, writeConverted } from './store.js';
import { verifyConversion } from './verify.js';

export { sha256Hex as sha256Of } from '../model/model-file.js';

/**
 * The photos a task's model is verified on, fitted to its input: faces for detect (stretched,
 * as its letterbox roughly does), the classify set for every other task, resized as the
 * descriptor says.
 */
function photosFor(
  task: AnyTask,
  descriptor: ModelDescriptor,
): { photos: readonly PinnedFile[]; resize: ResizeMode } {
  return task.id === 'detect'
    ? { photos: VERIFICATION_PHOTOS.detect, resize: 'fill' }
    : { photos: VERIFICATION_PHOTOS.classify, resize: descriptor.input.resize };
}

/** Each photo as the model's inputs: the image input from the photo, any other input zeros. */
async function verificationInputs(task: AnyTask, descriptor: ModelDescriptor, conversion: ConversionResult) {
  const { photos, resize } = photosFor(task, descriptor);
  const { width, height, format, mean, std } = descriptor.input;
  // The named input, or the first when the descriptor names none (findIndex gives -1).
  const imageInput = Math.max(
    0,
    conversion.inputs.findIndex((input) => input.name === descriptor.input.name),
  );
  const inputs: { name: string; inputs: TensorData[] }[] = [];
  for (const photo of photos) {
    const path = join(sampleCacheDir(), photo.name);
    if (!existsSync(path)) continue; // counted below: too few photos fails verification
    const opened = await openImage(readFileSync(path));
    const rgb = await resizeToRgb(opened, width, height, resize);
    const image = rgbToTensor(rgb, { width, height, format, mean, std });
    inputs.push({
      name: photo.name,
      inputs: conversion.inputs.map((info, index) => (index === imageInput ? image : zerosFor(info))),
    });
  }
  return { inputs, expected: photos.length };
}

/** The output whose top-1 both engines must agree on, if the task has one (Task.scoresOutput). */
function scoresIndex(
  task: AnyTask,
  descriptor: ModelDescriptor,
  conversion: ConversionResult,
): number | undefined {
  if (!task.scoresOutput) return undefined;
  const name = task.scoresOutput(descriptor);
  if (name === undefined) return 0;
  return Math.max(
    0,
    conversion.outputs.findIndex((output) => output.name === name),
  );
}

export interface PrepareOptions {
  /** Convert and verify again even if a report for this model and converter exists. */
  readonly force?: boolean;
}

/** The report of a model that failed to convert or to verify, stored so set-up shows it. */
function failedReport(
  base: Omit<ConversionReport, 'ok' | 'failedAt' | 'message' | 'ops' | 'inputs' | 'outputs'>,
  failedAt: 'convert' | 'verify',
  error: unknown,
  conversion?: ConversionResult,
): ConversionReport {
  const report: ConversionReport = {
    ...base,
    ok: false,
    failedAt,
    message: toTfliteFnError(error).message,
    ops: conversion?.ops ?? [],
    inputs: conversion?.inputs ?? [],
    outputs: conversion?.outputs ?? [],
  };
  writeConverted(report, undefined);
  return report;
}

export async function convertAndVerify(
  descriptor: ModelDescriptor,
  tflite: Uint8Array,
  options: PrepareOptions = {},
): Promise<ConversionReport> {
  const label = `model '${descriptor.id}'`;
  const fileSha256 = sha256Hex(tflite);
  const cutAt = descriptor.model.outputs;
  const tfliteSha256 = servedModelKey(fileSha256, cutAt);
  // A stored failure is tried again: serving never converts (it only reads reports), so a
  // retry costs only set-up time, and the cause may have been fixed (a photo fetched, a
  // library installed).
  const known = options.force ? undefined : readReport(tfliteSha256);
  if (known?.ok) {
    removeOtherVersions(tfliteSha256);
    return known;
  }
  const base = {
    converterVersion: CONVERTER_VERSION,
    tfliteSha256,
    ...(cutAt ? { cut: { fileSha256, outputs: [...cutAt] } } : {}),
    model: descriptor.id,
    createdAt: new Date().toISOString(),
  };
  let served: Uint8Array;
  let conversion: ConversionResult;
  try {
    served = await servedModelBytes(tflite, cutAt, label);
    conversion = convertTfliteToOnnx(served, label);
  } catch (error) {
    return failedReport(base, 'convert', error);
  }
  const task = taskById(descriptor.task);
  const { inputs, expected } = await verificationInputs(task, descriptor, conversion);
  let outcome: Awaited<ReturnType<typeof verifyConversion>> | undefined;
  if (inputs.length === expected) {
    try {
      outcome = await verifyConversion(
        served,
        conversion,
        inputs,
        scoresIndex(task, descriptor, conversion),
        label,
      );
    } catch (error) {
      // An ONNX model onnxruntime refuses (a converter bug) fails verification, not set-up.
      return failedReport(base, 'verify', error, conversion);
    }
  }
  const report: ConversionReport = {
    ...base,
    ok: outcome?.ok ?? false,
    ...(outcome?.ok ? {} : { failedAt: 'verify' as const }),
    message:
      outcome?.message ??
      `only ${inputs.length} of the ${expected} verification photos are present: run tflite-fn setup`,
    ops: conversion.ops,
    inputs: conversion.inputs,
    outputs: conversion.outputs,
    ...(outcome ? { verification: outcome.summary } : {}),
    ...(outcome?.batch ? { batch: outcome.batch } : {}),
  };
  // A model that missed its photos is not stored: the next set-up, with photos, tries again.
  if (outcome) writeConverted(report, report.ok ? conversion.onnx : undefined);
  return report;
}

/**
 * Converts and verifies every model of a catalog whose file is present (set-up and the layer
 * build run this). A model that does not convert is reported, not fatal: it stays on LiteRT.
 */
export async function convertCatalog(
  catalog: ModelCatalog,
  options: PrepareOptions & { onModel?: (id: string, report: ConversionReport, ms: number) => void } = {},
): Promise<ConversionReport[]> {
  const reports: ConversionReport[] = [];
  for (const entry of catalog.entries()) {
    if (!entry.descriptor) continue;
    const path = catalog.locate(entry, entry.descriptor.model).path;
    if (!existsSync(path)) continue;
    const started = performance.now();
    const report = await convertAndVerify(entry.descriptor, readFileSync(path), options);
    reports.push(report);
    options.onModel?.(entry.id, report, performance.now() - started);
  }
  return reports;
}
