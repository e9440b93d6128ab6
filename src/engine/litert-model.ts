/**
 * One TFLite model compiled by LiteRT.js, behind the engine-neutral `CompiledModel` face.
 *
 * LiteRT tensors live in wasm memory and must be freed by hand; this module is the only place
 * that creates them, and it frees every one in `finally`, so a failed run leaks nothing.
 */

import type { TypedArray as LiteRtTypedArray } from '@litertjs/core';
import { ModelLoadError, TfliteFnError } from '../errors.js';
import { assertTfliteIntegrity } from '../tflite/check.js';
import { type LiteRtModule, loadLiteRtRuntime } from './litert-runtime.js';
import { assertRunnable, firstLine } from './run-checks.js';
import { SerialQueue } from './serial-queue.js';
import type { CompiledModel, TensorData, TensorDType, TensorInfo } from './types.js';

type LiteRtCompiledModel = Awaited<
  ReturnType<Awaited<ReturnType<typeof loadLiteRtRuntime>>['liteRt']['loadAndCompile']>
>;

interface LiteRtTensorDetails {
  name: string;
  dtype: string;
  shape: ArrayLike<number>;
}

function toTensorInfo(details: LiteRtTensorDetails): TensorInfo {
  return { name: details.name, dtype: details.dtype as TensorDType, shape: Array.from(details.shape) };
}

export class LiteRtCompiledModelAdapter implements CompiledModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly #core: LiteRtModule;
  readonly #model: LiteRtCompiledModel;
  readonly #label: string;
  /**
   * Runs are chained one after another. The wasm build is single-threaded, so this costs no
   * throughput, and it guarantees two requests never interleave inside one interpreter.
   */
  readonly #queue = new SerialQueue();
  #disposed = false;

  private constructor(core: LiteRtModule, model: LiteRtCompiledModel, label: string) {
    this.#core = core;
    this.#model = model;
    this.#label = label;
    this.inputs = model.getInputDetails().map(toTensorInfo);
    this.outputs = model.getOutputDetails().map(toTensorInfo);
  }

  /** Compiles a model from its bytes; `label` names it in error messages (a path or id). */
  static async compile(bytes: Uint8Array, label: string): Promise<LiteRtCompiledModelAdapter> {
    assertTfliteIntegrity(bytes, label);
    const { core, liteRt, threads } = await loadLiteRtRuntime();
    try {
      const model = await liteRt.loadAndCompile(bytes, {
        accelerator: 'wasm',
        cpuOptions: { numThreads: threads },
      });
      return new LiteRtCompiledModelAdapter(core, model, label);
    } catch (cause) {
      throw new ModelLoadError(`LiteRT could not compile ${label}: ${firstLine(cause)}`, { cause });
    }
  }

  run(inputs: readonly TensorData[]): Promise<TensorData[]> {
    return this.#queue.add(() => this.#runNow(inputs));
  }

  async #runNow(inputs: readonly TensorData[]): Promise<TensorData[]> {
    assertRunnable(this.#label, this.#disposed, this.inputs.length, inputs.length);
    const tensors: { delete(): void }[] = [];
    try {
      const inputTensors = inputs.map((data, index) => {
        const info = this.inputs[index] as TensorInfo;
        const expected = info.shape.reduce((a, b) => a * b, 1);
        if (data.length !== expected) {
          throw new TfliteFnError(
            500,
            'engine_error',
            `input '${info.name}' of ${this.#label} needs ${expected} values, got ${data.length}`,
          );
        }
        // LiteRT's typings want arrays over a plain ArrayBuffer; ours may sit on a shared one.
        const tensor = new this.#core.Tensor(data as LiteRtTypedArray, [...info.shape]);
        tensors.push(tensor);
        return tensor;
      });
      let outputs: { toTypedArray(): unknown; delete(): void }[];
      try {
        outputs = await this.#model.run(inputTensors);
      } catch (cause) {
        throw new ModelLoadError(`${this.#label} failed to run: ${firstLine(cause)}`, { cause });
      }
      tensors.push(...outputs);
      // toTypedArray() copies out of wasm memory, so the arrays outlive the tensors.
      return outputs.map((tensor) => tensor.toTypedArray() as TensorData);
    } finally {
      for (const tensor of tensors) tensor.delete();
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#model.delete();
  }
}
