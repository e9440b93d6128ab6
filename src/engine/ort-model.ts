/**
 * One converted model (ONNX, from src/convert) on onnxruntime-node's native CPU kernels, behind
 * the engine-neutral `CompiledModel` face.
 *
 * onnxruntime-node is imported on first use only: loading its native library costs tens of
 * milliseconds and memory that a process serving from LiteRT never needs.
 */
import type * as Ort from 'onnxruntime-node';
import { ModelLoadError, TfliteFnError } from '../errors.js';
import { exactInt8Paths, type Int8KernelPath, sessionEntriesFor } from '../util/cpu.js';
import { prepareOrtEnvironment } from './ort-env.js';
import { assertRunnable, firstLine } from './run-checks.js';
import { SerialQueue } from './serial-queue.js';
import type { CompiledModel, TensorData, TensorInfo } from './types.js';

export type OrtModule = typeof Ort;

let ortModule: Promise<OrtModule> | undefined;

/** Loads onnxruntime-node once per process; a failure is not cached, so a retry tries again. */
export function loadOrt(): Promise<OrtModule> {
  prepareOrtEnvironment();
  ortModule ??= import('onnxruntime-node').catch((cause: unknown) => {
    ortModule = undefined;
    throw new ModelLoadError(
      `onnxruntime-node could not be loaded (${firstLine(cause)}). It is an optional dependency, left out ` +
        'when its install script fails (on linux x64 it downloads CUDA files); models run on litert without it. ' +
        'For the native engine: npm install onnxruntime-node --onnxruntime-node-install=skip, then npx tflite-fn setup',
      { cause },
    );
  });
  return ortModule;
}

const ARRAY_TYPES = {
  uint8: Uint8Array,
  int32: Int32Array,
  float32: Float32Array,
} as const;

export async function createSession(
  ort: OrtModule,
  onnx: Uint8Array,
  label: string,
  threads: number,
  int8Path: Int8KernelPath,
): Promise<Ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(onnx, {
      intraOpNumThreads: Math.max(1, Math.floor(threads)),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // Warnings from graph optimization (e.g. unused initializers) are not the caller's business.
      logSeverityLevel: 3,
      extra: {
        session: {
          // ORT's pool threads spin after each run waiting for more work. In a process that
          // also decodes images, runs a second session (a sandboxed program's) or LiteRT,
          // that spin steals the very cores the next step needs: measured 2-3x slower
          // interleaved runs.
          intra_op: { allow_spinning: '0' },
          ...sessionEntriesFor(int8Path),
        },
      },
    });
  } catch (cause) {
    throw new ModelLoadError(`onnxruntime could not load ${label}: ${firstLine(cause)}`, { cause });
  }
}

export class OrtCompiledModel implements CompiledModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Which int8 kernels this session multiplies with (see Int8KernelPath). */
  readonly int8Path: Int8KernelPath;
  /** Whether the graph runs several items at once (its batch dimension is open): runBatch. */
  readonly batchable: boolean;
  readonly #ort: OrtModule;
  readonly #session: Ort.InferenceSession;
  readonly #label: string;
  /**
   * Runs are chained one after another: each already uses every thread it was given, and
   * overlapping runs would only compete for them.
   */
  readonly #queue = new SerialQueue();
  #disposed = false;

  private constructor(
    ort: OrtModule,
    session: Ort.InferenceSession,
    info: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] },
    label: string,
    int8Path: Int8KernelPath,
    batchable: boolean,
  ) {
    this.int8Path = int8Path;
    this.batchable = batchable;
    this.#ort = ort;
    this.#session = session;
    this.#label = label;
    this.inputs = info.inputs;
    this.outputs = info.outputs;
  }

  /**
   * Creates an inference session for a converted model. `info` is what the converter reported
   * (TFLite's names, types and NHWC shapes); `label` names the model in errors; `threads` is
   * the intra-op thread count; `int8Path` the int8 kernels to use, by default the fastest this
   * CPU computes exactly (a path the CPU cannot run exactly is refused); `batchable` that the
   * graph's batch dimension is open and batched runs were verified (src/convert/verify.ts).
   */
  static async compile(
    onnx: Uint8Array,
    info: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] },
    label: string,
    threads: number,
    int8Path: Int8KernelPath = exactInt8Paths()[0] as Int8KernelPath,
    batchable = false,
  ): Promise<OrtCompiledModel> {
    if (!exactInt8Paths().includes(int8Path)) {
      throw new ModelLoadError(
        `${label} cannot use the ${int8Path} int8 kernels on this CPU (${exactInt8Paths().join(', ')} only)`,
      );
    }
    const ort = await loadOrt();
    const session = await createSession(ort, onnx, `the converted ${label}`, threads, int8Path);
    const missing = [
      ...info.inputs.filter((tensor) => !session.inputNames.includes(tensor.name)),
      ...info.outputs.filter((tensor) => !session.outputNames.includes(tensor.name)),
    ];
    if (missing.length > 0) {
      await session.release();
      throw new ModelLoadError(
        `the converted ${label} lacks ${missing.map((tensor) => `'${tensor.name}'`).join(', ')}`,
      );
    }
    return new OrtCompiledModel(ort, session, info, label, int8Path, batchable);
  }

  run(inputs: readonly TensorData[]): Promise<TensorData[]> {
    return this.#queue.add(async () => {
      const [outputs] = await this.#runItems([inputs]);
      return outputs as TensorData[];
    });
  }

  /**
   * Runs several items in one call, each item's inputs as `run` takes them, and returns each
   * item's outputs. Only for a graph whose batch dimension is open (`batchable`).
   */
  runBatch(items: readonly (readonly TensorData[])[]): Promise<TensorData[][]> {
    if (!this.batchable && items.length !== 1)
      return Promise.reject(new TfliteFnError(500, 'engine_error', `${this.#label} does not run batches`));
    return this.#queue.add(() => this.#runItems(items));
  }

  /** Checks each item's input against the model's tensor, so no item is read out of bounds. */
  #checkInput(data: TensorData, info: TensorInfo): void {
    const expected = info.shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected || !(data instanceof ARRAY_TYPES[info.dtype])) {
      throw new TfliteFnError(
        500,
        'engine_error',
        `input '${info.name}' of ${this.#label} needs ${expected} ${info.dtype} values, got ${data.length} in a ${data.constructor.name}`,
      );
    }
  }

  /** The items' values of one input, one after another (the one item's own array when alone). */
  #joined(items: readonly (readonly TensorData[])[], index: number): TensorData {
    const info = this.inputs[index] as TensorInfo;
    const parts = items.map((item) => item[index] as TensorData);
    for (const part of parts) this.#checkInput(part, info);
    if (parts.length === 1) return parts[0] as TensorData;
    const joined = new ARRAY_TYPES[info.dtype](parts.reduce((total, part) => total + part.length, 0));
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return joined;
  }

  async #runItems(items: readonly (readonly TensorData[])[]): Promise<TensorData[][]> {
    for (const item of items) assertRunnable(this.#label, this.#disposed, this.inputs.length, item.length);
    const count = items.length;
    const feeds: Record<string, Ort.Tensor> = {};
    this.inputs.forEach((info, index) => {
      // The item's own shape with its leading dimension, the batch of one, as the item count.
      const shape = count === 1 ? [...info.shape] : [count, ...info.shape.slice(1)];
      feeds[info.name] = new this.#ort.Tensor(info.dtype, this.#joined(items, index), shape);
    });
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await this.#session.run(feeds);
    } catch (cause) {
      throw new ModelLoadError(`${this.#label} failed to run on onnxruntime: ${firstLine(cause)}`, { cause });
    }
    const outputs = this.outputs.map((info) => {
      const tensor = results[info.name];
      const ArrayType = ARRAY_TYPES[info.dtype];
      const size = info.shape.reduce((a, b) => a * b, 1);
      if (!tensor || tensor.type !== info.dtype || !(tensor.data instanceof ArrayType)) {
        throw new ModelLoadError(`${this.#label} gave no ${info.dtype} output '${info.name}'`);
      }
      if (count > 1 && tensor.data.length !== size * count) {
        throw new ModelLoadError(
          `${this.#label} gave ${tensor.data.length} values of '${info.name}' for ${count} items of ${size}`,
        );
      }
      return tensor.data;
    });
    // Copies: the caller owns its outputs, whatever ORT does with its buffers later.
    return items.map((_, item) =>
      outputs.map((data) => {
        const size = data.length / count;
        return data.slice(item * size, (item + 1) * size);
      }),
    );
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Wait for a run in flight before releasing the native session under it.
    void this.#queue
      .idle()
      .then(() => this.#session.release())
      .catch(() => undefined);
  }
}
