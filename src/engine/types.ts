/** What the rest of the core needs from an inference engine, whatever runs the model. */

/** The element types LiteRT.js can hand in and out of a model. */
export type TensorDType = 'uint8' | 'int32' | 'float32';

/** Data of one tensor, laid out as the model expects (row-major, NHWC for images). */
export type TensorData = Uint8Array | Int32Array | Float32Array;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
}

export interface CompiledModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /**
   * Runs the model once. Inputs are given in the order of `inputs`; outputs come back in the
   * order of `outputs`, copied out of the engine so the caller owns them.
   */
  run(inputs: readonly TensorData[]): Promise<TensorData[]>;
  /**
   * True on models that run several items in one call (a converted graph with an open,
   * verified batch dimension): runBatch takes each item's inputs as `run` does and gives each
   * item's outputs back, equal to what `run` gives for that item alone.
   */
  readonly batchable?: boolean;
  runBatch?(items: readonly (readonly TensorData[])[]): Promise<TensorData[][]>;
  /** Frees the engine's memory for this model. The model cannot run afterwards. */
  dispose(): void;
}
