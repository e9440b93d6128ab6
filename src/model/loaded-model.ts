/**
 * A model ready to serve: descriptor checked against the real model, labels read, engine
 * compiled and warmed up. Built once per process per model by the catalog.
 */

import { basename } from 'node:path';
import { compileWithEngine, type EngineName, type EngineSetting } from '../engine/select.js';
import type { CompiledModel, TensorInfo } from '../engine/types.js';
import { ModelLoadError } from '../errors.js';
import type { TensorLayout } from '../image/to-tensor.js';
import type { ClassifyDescriptor } from './descriptor.js';
import { readModelFile, SETUP_FIX, sha256Hex } from './model-file.js';

export interface ModelFiles {
  readonly model: string;
  readonly labels: string;
}

export interface LoadedModel {
  readonly descriptor: ClassifyDescriptor;
  readonly engine: CompiledModel;
  readonly engineName: EngineName;
  /** Why that engine (a verified conversion, or why there is none). */
  readonly engineReason: string;
  readonly labels: readonly string[];
  readonly layout: TensorLayout;
  /** Which of the model's inputs/outputs the descriptor refers to. */
  readonly inputIndex: number;
  readonly outputIndex: number;
  readonly outputSize: number;
  readonly files: ModelFiles;
  readonly loadMs: number;
  readonly warmUpMs: number;
}

function parseLabels(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function pick(tensors: readonly TensorInfo[], name: string | undefined, kind: string, id: string): number {
  if (name === undefined) {
    if (tensors.length === 1) return 0;
    throw new ModelLoadError(
      `model '${id}' has ${tensors.length} ${kind}s (${tensors.map((t) => t.name).join(', ')}); name one in the descriptor's ${kind}.name`,
    );
  }
  const index = tensors.findIndex((tensor) => tensor.name === name);
  if (index < 0) {
    throw new ModelLoadError(
      `model '${id}' has no ${kind} named '${name}'; its ${kind}s are: ${tensors.map((t) => `'${t.name}'`).join(', ') || '(unnamed)'}`,
    );
  }
  return index;
}

/** Checks that the descriptor describes this model, so a mismatch fails at load, not per request. */
function checkAgainstModel(descriptor: ClassifyDescriptor, engine: CompiledModel, labels: readonly string[]) {
  const id = descriptor.id;
  const inputIndex = pick(engine.inputs, descriptor.input.name, 'input', id);
  const outputIndex = pick(engine.outputs, descriptor.output.name, 'output', id);
  const input = engine.inputs[inputIndex] as TensorInfo;
  const output = engine.outputs[outputIndex] as TensorInfo;
  const { width, height, format } = descriptor.input;

  const expectedShape = [1, height, width, 3];
  if (input.shape.join(',') !== expectedShape.join(',')) {
    throw new ModelLoadError(
      `model '${id}' input '${input.name}' has shape [${input.shape.join(', ')}], but the descriptor says [${expectedShape.join(', ')}] (NHWC, RGB)`,
    );
  }
  const wantedType = format.endsWith('32f') ? 'float32' : 'uint8';
  if (input.dtype !== wantedType) {
    throw new ModelLoadError(
      `model '${id}' input '${input.name}' is ${input.dtype}, but the descriptor's input.format ${format} gives ${wantedType}`,
    );
  }
  if (output.dtype !== 'uint8' && output.dtype !== 'float32') {
    throw new ModelLoadError(
      `model '${id}' output '${output.name}' is ${output.dtype}; a classifier needs uint8 or float32 scores`,
    );
  }
  const outputSize = output.shape.reduce((a, b) => a * b, 1);
  const offset = descriptor.output.label_offset;
  if (outputSize !== labels.length + offset) {
    throw new ModelLoadError(
      `model '${id}' output '${output.name}' has ${outputSize} scores, but ${labels.length} labels with label_offset ${offset} cover ${labels.length + offset}`,
    );
  }
  return { inputIndex, outputIndex, outputSize };
}

export async function loadModel(
  descriptor: ClassifyDescriptor,
  files: ModelFiles,
  options: { warmUp: boolean; engine: EngineSetting },
): Promise<LoadedModel> {
  const started = performance.now();
  const id = descriptor.id;
  const labelBytes = await readModelFile({
    path: files.labels,
    what: 'labels file',
    id,
    sha256: descriptor.output.labels.sha256,
    fix: SETUP_FIX,
  });
  const labels = parseLabels(new TextDecoder().decode(labelBytes));
  const readModel = () =>
    readModelFile({
      path: files.model,
      what: 'model file',
      id,
      sha256: descriptor.model.sha256,
      fix: SETUP_FIX,
    });
  // A pinned hash names the model without reading it: the native engine may not need the file.
  const modelSha256 = descriptor.model.sha256 ?? sha256Hex(await readModel());
  const choice = await compileWithEngine(
    readModel,
    modelSha256,
    // Named by its file name only: the label reaches HTTP clients in error messages.
    `model '${id}' (${basename(files.model)})`,
    options.engine,
  );
  const engine = choice.model;
  try {
    const { inputIndex, outputIndex, outputSize } = checkAgainstModel(descriptor, engine, labels);
    const loadMs = performance.now() - started;
    let warmUpMs = 0;
    if (options.warmUp) {
      // V8 compiles wasm lazily: the first run is 3-5x slower than the rest (80 vs 22 ms).
      // One run on a blank image at load takes most of that out of the first real request.
      const warmStarted = performance.now();
      const inputs = engine.inputs.map((info) => {
        const size = info.shape.reduce((a, b) => a * b, 1);
        return info.dtype === 'float32'
          ? new Float32Array(size)
          : info.dtype === 'int32'
            ? new Int32Array(size)
            : new Uint8Array(size);
      });
      await engine.run(inputs);
      warmUpMs = performance.now() - warmStarted;
    }
    const { width, height, format, mean, std } = descriptor.input;
    return {
      descriptor,
      engine,
      engineName: choice.engine,
      engineReason: choice.reason,
      labels,
      layout: { width, height, format, mean, std },
      inputIndex,
      outputIndex,
      outputSize,
      files,
      loadMs,
      warmUpMs,
    };
  } catch (error) {
    engine.dispose();
    throw error;
  }
}
