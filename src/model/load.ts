/**
 * The one model loader, for every task: labels read (when the task has them), the model
 * compiled on the engine the plan picks, the image input found and checked against the
 * descriptor, the task's own check (prepareModel), and a warm-up run. Built once per process
 * per model by the catalog.
 */
import { basename } from 'node:path';
import { withBatching } from '../batch/batcher.js';
import type { BatchingOptions } from '../batch/settings.js';
import { compileWithEngine, type EngineSetting } from '../engine/select.js';
import type { CompiledModel, TensorData, TensorInfo } from '../engine/types.js';
import { ModelLoadError } from '../errors.js';
import { fetchOnFirstUse } from '../store/first-use.js';
import type { LoadedModel, Task } from '../tasks/task.js';
import type { FileRef, ModelDescriptor } from './descriptor.js';
import { NPM_FIX, readModelFile, SETUP_FIX, sha256Hex } from './model-file.js';
import { pickTensor } from './pick-tensor.js';
import { servedModelBytes, servedModelKey } from './served-model.js';

/** Where the model's files are on this host (found by the catalog). */
export interface ModelFiles {
  readonly model: string;
  /** Present when the task has a labels file. */
  readonly labels?: string | undefined;
}

export interface LoadOptions {
  readonly warmUp: boolean;
  readonly engine: EngineSetting;
  /**
   * Set-up fetched the file and checked it against its pinned sha256 (built-in models), so the
   * pin alone may name it. A user's file is read and checked once at load: its pin is what
   * finds a stored conversion, and a pin copied from another descriptor would otherwise serve
   * that other model's conversion without a word.
   */
  readonly pinChecked: boolean;
  /** Gather concurrent runs into batches (src/batch), where the model verified batched runs. */
  readonly batching?: BatchingOptions;
}

function parseLabels(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** How to get a missing file back: set-up, or reinstalling the npm package that ships it. */
function fixFor(ref: FileRef): string {
  return ref.file.startsWith('npm:') ? NPM_FIX : SETUP_FIX;
}

async function readLabels(
  task: Task,
  descriptor: ModelDescriptor,
  path: string | undefined,
): Promise<string[]> {
  const ref = task.labelsOf?.(descriptor);
  if (!ref) return [];
  if (path === undefined)
    throw new ModelLoadError(`model '${descriptor.id}': its labels file was not located`);
  await fetchOnFirstUse(ref, path);
  const bytes = await readModelFile({
    path,
    what: 'labels file',
    id: descriptor.id,
    sha256: ref.sha256,
    fix: fixFor(ref),
  });
  return parseLabels(new TextDecoder().decode(bytes));
}

/** The image input: named by the descriptor (or the only input), NHWC RGB of its size and type. */
function imageInput(descriptor: ModelDescriptor, engine: CompiledModel): number {
  const id = descriptor.id;
  const inputIndex = pickTensor(engine.inputs, descriptor.input.name, 'input', id);
  const input = engine.inputs[inputIndex] as TensorInfo;
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
  return inputIndex;
}

/** Zeros of an input's size and element type. */
export function zerosFor(info: TensorInfo): TensorData {
  const size = info.shape.reduce((a, b) => a * b, 1);
  return info.dtype === 'float32'
    ? new Float32Array(size)
    : info.dtype === 'int32'
      ? new Int32Array(size)
      : new Uint8Array(size);
}

export async function loadModel(
  task: Task,
  descriptor: ModelDescriptor,
  files: ModelFiles,
  options: LoadOptions,
): Promise<LoadedModel<unknown>> {
  const started = performance.now();
  const id = descriptor.id;
  const labels = await readLabels(task, descriptor, files.labels);
  let modelBytes: Promise<Uint8Array> | undefined;
  // Read once, on first need: the native engine may never need the .tflite file. Tasks get
  // the whole file (ModelParts.tflite), engines the served (maybe cut) model.
  const readModel = () => {
    if (!modelBytes) {
      modelBytes = fetchOnFirstUse(descriptor.model, files.model).then(() =>
        readModelFile({
          path: files.model,
          what: 'model file',
          id,
          sha256: descriptor.model.sha256,
          fix: fixFor(descriptor.model),
        }),
      );
      // A failed read is tried again on the next call, not remembered.
      modelBytes.catch(() => {
        modelBytes = undefined;
      });
    }
    return modelBytes;
  };
  // Named by its file name only: the label reaches HTTP clients in error messages.
  const label = `model '${id}' (${basename(files.model)})`;
  // A pinned hash set-up has checked names the model without reading it.
  const pin = descriptor.model.sha256;
  if (pin !== undefined && !options.pinChecked) await readModel();
  const key = servedModelKey(pin ?? sha256Hex(await readModel()), descriptor.model.outputs);
  const served = async () => servedModelBytes(await readModel(), descriptor.model.outputs, label);
  const choice = await compileWithEngine(served, key, label, options.engine);
  const engine = withBatching(choice.model, options.batching);
  try {
    const inputIndex = imageInput(descriptor, engine);
    const state = await task.prepareModel({ descriptor, engine, labels, tflite: readModel });
    const loadMs = performance.now() - started;
    let warmUpMs = 0;
    if (options.warmUp) {
      // V8 compiles wasm lazily: the first run is 3-5x slower than the rest (80 vs 22 ms).
      // One run on zeros at load takes most of that out of the first real request.
      // On the model itself: through the batcher, a lone run would wait its queue delay.
      const warmStarted = performance.now();
      await choice.model.run(engine.inputs.map(zerosFor));
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
      state,
      loadMs,
      warmUpMs,
    };
  } catch (error) {
    engine.dispose();
    throw error;
  }
}
