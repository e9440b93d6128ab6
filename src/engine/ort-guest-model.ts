/**
 * An ONNX model a sandboxed program brings itself (WASI-NN encoding onnx, or preloaded with
 * --nn-preload), on onnxruntime as it comes. Unlike a converted model it speaks raw bytes:
 * the element types are whatever WASI-NN can name (f16, f32, f64, u8, i32, i64), and an input
 * dimension the model leaves open (a batch of any size) takes the size the program gives,
 * so its outputs are sized only once the model has run.
 */
import type * as Ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.js';
import { exactInt8Paths, type Int8KernelPath } from '../util/cpu.js';
import { createSession, loadOrt, type OrtModule } from './ort-model.js';
import { assertRunnable, firstLine } from './run-checks.js';
import { SerialQueue } from './serial-queue.js';

/** Element types a program's ONNX model may take and give, with their arrays and sizes. */
const WIRE_ARRAYS = {
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  uint8: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
} as const;
export type WireDType = keyof typeof WIRE_ARRAYS;

/** A tensor as the host ABIs see it; a dimension the model leaves open is -1. */
export interface WireTensorInfo {
  readonly name: string;
  readonly dtype: WireDType;
  readonly shape: readonly number[];
}

/** One input of a run: its bytes, and its shape with every open dimension filled in. */
export interface ShapedBytes {
  readonly bytes: Uint8Array;
  readonly shape: readonly number[];
}

export const bytesPerElement = (dtype: WireDType): number => WIRE_ARRAYS[dtype].BYTES_PER_ELEMENT;

function tensorsOf(label: string, metadata: readonly Ort.InferenceSession.ValueMetadata[]) {
  return metadata.map((value): WireTensorInfo => {
    const dtype = value.isTensor ? value.type : 'not a tensor';
    if (!(dtype in WIRE_ARRAYS))
      throw new ModelLoadError(
        `${label}: '${value.name}' is ${dtype}; WASI-NN passes float16, float32, float64, uint8, int32 and int64`,
      );
    // A symbolic dimension (a name) or an unknown one is open: -1.
    const shape = value.isTensor ? value.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : [];
    return { name: value.name, dtype: dtype as WireDType, shape };
  });
}

/** A copy of `bytes` as the typed array onnxruntime takes for `dtype` (aligned: a fresh buffer). */
function typed(bytes: Uint8Array, dtype: WireDType) {
  const copy = bytes.slice();
  const ArrayType = WIRE_ARRAYS[dtype];
  return new ArrayType(copy.buffer, 0, copy.byteLength / ArrayType.BYTES_PER_ELEMENT);
}

export class OrtGuestModel {
  readonly #queue = new SerialQueue();
  #disposed = false;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly label: string,
    readonly inputs: readonly WireTensorInfo[],
    readonly outputs: readonly WireTensorInfo[],
  ) {}

  static async compile(onnx: Uint8Array, label: string, threads: number): Promise<OrtGuestModel> {
    const ort = await loadOrt();
    const session = await createSession(ort, onnx, label, threads, exactInt8Paths()[0] as Int8KernelPath);
    try {
      const inputs = tensorsOf(label, session.inputMetadata);
      const outputs = tensorsOf(label, session.outputMetadata);
      return new OrtGuestModel(ort, session, label, inputs, outputs);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /**
   * Runs once. The caller (the host ABI) has checked each input's shape against the model's
   * and its byte length against the shape; outputs come back as bytes, sized by the run.
   */
  run(inputs: readonly ShapedBytes[]): Promise<Uint8Array[]> {
    return this.#queue.add(() => this.#runNow(inputs));
  }

  async #runNow(inputs: readonly ShapedBytes[]): Promise<Uint8Array[]> {
    assertRunnable(this.label, this.#disposed, this.inputs.length, inputs.length);
    const feeds: Record<string, Ort.Tensor> = {};
    this.inputs.forEach((info, index) => {
      const input = inputs[index] as ShapedBytes;
      // The Tensor constructor's overloads split int64 from the rest; the data matches dtype.
      feeds[info.name] = new this.ort.Tensor(
        info.dtype as 'float32',
        typed(input.bytes, info.dtype) as Float32Array,
        [...input.shape],
      );
    });
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds);
    } catch (cause) {
      throw new ModelLoadError(`${this.label} failed to run on onnxruntime: ${firstLine(cause)}`, { cause });
    }
    return this.outputs.map((info) => {
      const tensor = results[info.name];
      const data = tensor?.data;
      if (!tensor || tensor.type !== info.dtype || !ArrayBuffer.isView(data))
        throw new ModelLoadError(`${this.label} gave no ${info.dtype} output '${info.name}'`);
      // A copy: the caller owns its outputs, whatever ORT does with its buffers later.
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    });
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue
      .idle()
      .then(() => this.session.release())
      .catch(() => undefined);
  }
}
