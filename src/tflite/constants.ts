/**
 * What a task reads from the model file itself rather than hard-coding it: a constant
 * tensor's data (SSD's anchors), any tensor's type, shape and quantization (an output's scale
 * and zero point), and a custom operator's inputs and options (the scales and thresholds of
 * TFLite_Detection_PostProcess). Tasks use it on the original file (ModelParts.tflite()),
 * before any cut.
 *
 * Every failure is a ModelLoadError naming the model: the file is as untrusted as any other,
 * and a task that cannot find what it needs must fail at load, not per request.
 */

import { ModelLoadError } from '../errors.js';
import type { FlatFile } from './flatbuffer.js';
import { FlexBufferError, type FlexScalar, readFlexMap } from './flexbuffer.js';
import { readTfliteModel, withModelErrors } from './read.js';
import {
  builtinOperatorName,
  type Model,
  type Operator,
  type QuantizationParameters,
  type SubGraph,
  TENSOR_TYPE_BYTES,
  type Tensor,
  TensorType,
  tensorTypeName,
} from './schema.js';

export type ConstantData = Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface Quantization {
  /** One scale and zero point per tensor, or one per slice along `axis`. */
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number;
}

/** What the file says of any tensor: type, shape and quantization. */
export interface TensorFacts {
  readonly name: string;
  /** TFLite's type name: FLOAT32, UINT8, INT8, INT64… */
  readonly type: string;
  readonly shape: readonly number[];
  readonly quantization?: Quantization;
}

/** The operator that computes a tensor: what it is, what it reads, and its builtin options. */
export interface ProducingOperator {
  /** TFLite's name of a builtin operator (RESIZE_BILINEAR…), or a custom operator's code. */
  readonly code: string;
  /** Names of its input tensors, in order (undefined: an optional input left out). */
  readonly inputs: readonly (string | undefined)[];
  /** Its builtin options table read as `make`, when the operator has options of `type`. */
  options<T>(type: number, make: new (file: FlatFile, position: number) => T): T | undefined;
}

export interface ConstantTensor extends TensorFacts {
  /** The stored values (quantized, when `quantization` is set), row-major; a copy. */
  readonly data: ConstantData;
}

/** How each readable type is decoded (little-endian in the file, whatever the host is). */
const DECODERS: Readonly<Record<number, (view: DataView, count: number) => ConstantData>> = {
  [TensorType.FLOAT32]: (v, n) => Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i, true)),
  [TensorType.INT32]: (v, n) => Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, true)),
  [TensorType.INT16]: (v, n) => Int16Array.from({ length: n }, (_, i) => v.getInt16(2 * i, true)),
  [TensorType.INT8]: (v, n) => Int8Array.from({ length: n }, (_, i) => v.getInt8(i)),
  [TensorType.UINT8]: (v, n) => Uint8Array.from({ length: n }, (_, i) => v.getUint8(i)),
};

/** A custom operator's options: a FlexBuffer map of scalars, read with typed getters. */
export class CustomOptions {
  readonly #values: ReadonlyMap<string, FlexScalar>;
  readonly #what: string;

  constructor(values: ReadonlyMap<string, FlexScalar>, what: string) {
    this.#values = values;
    this.#what = what;
  }

  get keys(): readonly string[] {
    return [...this.#values.keys()];
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  #get(key: string, kind: string, accepts: (value: FlexScalar) => boolean): FlexScalar {
    const value = this.#values.get(key);
    if (value === undefined) throw new ModelLoadError(`${this.#what} have no '${key}'`);
    if (!accepts(value))
      throw new ModelLoadError(`${this.#what}: '${key}' is ${JSON.stringify(value)}, not ${kind}`);
    return value;
  }

  /** A finite number, stored as an int or a float. */
  number(key: string): number {
    return this.#get(key, 'a number', (v) => typeof v === 'number' && Number.isFinite(v)) as number;
  }

  integer(key: string): number {
    return this.#get(key, 'an integer', (v) => typeof v === 'number' && Number.isSafeInteger(v)) as number;
  }

  boolean(key: string): boolean {
    return this.#get(key, 'a boolean', (v) => typeof v === 'boolean') as boolean;
  }

  string(key: string): string {
    return this.#get(key, 'a string', (v) => typeof v === 'string') as string;
  }
}

/** Read access to a model's constants and custom options, opened (and checked) once. */
export class ModelConstants {
  readonly #model: Model;
  readonly #subgraph: SubGraph;
  readonly #label: string;

  private constructor(model: Model, subgraph: SubGraph, label: string) {
    this.#model = model;
    this.#subgraph = subgraph;
    this.#label = label;
  }

  /** Opens a .tflite file; `label` names it in errors. Reads the main (first) subgraph. */
  static open(bytes: Uint8Array, label: string): ModelConstants {
    const model = readTfliteModel(bytes, label);
    const subgraph = withModelErrors(label, () => model.subgraphs[0]);
    if (!subgraph) throw new ModelLoadError(`${label} has no subgraph`);
    return new ModelConstants(model, subgraph, label);
  }

  /**
   * Type, shape and quantization of the tensor named `name`, constant or not (an input or
   * output whose scale and zero point a task needs).
   */
  describe(name: string): TensorFacts {
    return withModelErrors(this.#label, () => this.#facts(this.#tensorNamed(name)));
  }

  /** The constant tensor named `name`: its data, type, shape and quantization. */
  tensor(name: string): ConstantTensor {
    return withModelErrors(this.#label, () => {
      const tensor = this.#tensorNamed(name);
      const what = `tensor '${name}' of ${this.#label}`;
      const decoder = DECODERS[tensor.type];
      if (!decoder)
        throw new ModelLoadError(`${what} is ${tensorTypeName(tensor.type)}, a type not read as a constant`);
      if (tensor.isSparse) throw new ModelLoadError(`${what} is sparse, which is not read as a constant`);
      const facts = this.#facts(tensor);
      const count = facts.shape.reduce((a, b) => a * b, 1);
      const bytes = this.#model.buffers[tensor.buffer]?.data ?? new Uint8Array(0);
      if (bytes.length === 0)
        throw new ModelLoadError(`${what} is not a constant: it has no data in the file`);
      if (
        facts.shape.some((dimension) => dimension < 0) ||
        bytes.length !== count * (TENSOR_TYPE_BYTES[tensor.type] as number)
      ) {
        throw new ModelLoadError(
          `${what} has shape [${facts.shape.join(', ')}] but ${bytes.length} bytes of data`,
        );
      }
      return {
        ...facts,
        data: decoder(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), count),
      };
    });
  }

  #tensorNamed(name: string): Tensor {
    return this.#subgraph.tensors[this.#tensorIndex(name)] as Tensor;
  }

  /** The index of the one tensor named `name`. */
  #tensorIndex(name: string): number {
    const indices = this.#subgraph.tensors.flatMap((tensor, index) => (tensor.name === name ? [index] : []));
    const index = indices[0];
    if (index === undefined) throw new ModelLoadError(`${this.#label} has no tensor named '${name}'`);
    if (indices.length > 1)
      throw new ModelLoadError(`${this.#label} has ${indices.length} tensors named '${name}'`);
    return index;
  }

  #facts(tensor: Tensor): TensorFacts {
    const shape = tensor.shape;
    const quantization = this.#quantization(
      tensor.quantization,
      shape,
      `tensor '${tensor.name}' of ${this.#label}`,
    );
    return {
      name: tensor.name,
      type: tensorTypeName(tensor.type),
      shape,
      ...(quantization && { quantization }),
    };
  }

  #quantization(
    parameters: QuantizationParameters | undefined,
    shape: readonly number[],
    what: string,
  ): Quantization | undefined {
    if (!parameters) return undefined;
    if (parameters.detailsType !== 0) throw new ModelLoadError(`${what} uses a custom quantization scheme`);
    const scale = parameters.scale;
    const zeroPoint = parameters.zeroPoint;
    if (scale.length === 0) return undefined;
    const axis = parameters.quantizedDimension;
    const slices = scale.length === 1 ? 1 : shape[axis];
    if (slices !== scale.length || zeroPoint.length !== scale.length || !scale.every(Number.isFinite)) {
      throw new ModelLoadError(
        `${what} has ${scale.length} scales and ${zeroPoint.length} zero points for shape [${shape.join(', ')}]`,
      );
    }
    return { scale, zeroPoint, axis };
  }

  /**
   * The operator whose output is the tensor named `name` (a task that computes a model's last
   * operator itself, after a cut before it, reads what that operator does).
   */
  producerOf(name: string): ProducingOperator {
    return withModelErrors(this.#label, () => {
      const index = this.#tensorIndex(name);
      const operator = this.#subgraph.operators.find((op) => op.outputs.includes(index));
      if (!operator) throw new ModelLoadError(`${this.#label}: no operator computes tensor '${name}'`);
      const code = this.#model.operatorCodes[operator.opcodeIndex];
      const tensors = this.#subgraph.tensors;
      return {
        code: code?.customCode ?? builtinOperatorName(code?.builtinCode ?? -1),
        inputs: operator.inputs.map((input) => tensors[input]?.name),
        options: (type, make) =>
          withModelErrors(this.#label, () =>
            operator.builtinOptionsType === type ? operator.builtinOptions(make) : undefined,
          ),
      };
    });
  }

  /** Names of the input tensors of the custom operator `customCode`, in order (-1: left out). */
  operatorInputs(customCode: string): (string | undefined)[] {
    return withModelErrors(this.#label, () => {
      const tensors = this.#subgraph.tensors;
      return this.#customOperator(customCode).inputs.map((index) => tensors[index]?.name);
    });
  }

  /**
   * The options of the custom operator `customCode` (e.g. 'TFLite_Detection_PostProcess'),
   * which must occur exactly once in the main subgraph.
   */
  customOptions(customCode: string): CustomOptions {
    return withModelErrors(this.#label, () => {
      const operator = this.#customOperator(customCode);
      const what = `the options of ${customCode} in ${this.#label}`;
      const bytes = operator.customOptions;
      if (!bytes || bytes.length === 0)
        throw new ModelLoadError(`${this.#label}'s ${customCode} has no options`);
      if (operator.customOptionsFormat !== 0) {
        throw new ModelLoadError(`${what} are in format ${operator.customOptionsFormat}, not a FlexBuffer`);
      }
      try {
        return new CustomOptions(readFlexMap(bytes), what);
      } catch (cause) {
        if (!(cause instanceof FlexBufferError)) throw cause;
        throw new ModelLoadError(`${what} cannot be read: the FlexBuffer ${cause.message}`, { cause });
      }
    });
  }

  /** The one operator of the main subgraph whose custom code is `customCode`. */
  #customOperator(customCode: string): Operator {
    const operators = this.#subgraph.operators.filter((op) => this.#customCodeOf(op) === customCode);
    const operator = operators[0];
    if (!operator) throw new ModelLoadError(`${this.#label} has no ${customCode} operator`);
    if (operators.length > 1) {
      throw new ModelLoadError(
        `${this.#label} has ${operators.length} ${customCode} operators; expected one`,
      );
    }
    return operator;
  }

  #customCodeOf(operator: Operator): string | undefined {
    return this.#model.operatorCodes[operator.opcodeIndex]?.customCode;
  }
}

/**
 * The real values of a constant: (stored - zero point) x scale for a quantized one (per tensor
 * or per slice along its axis), the values as they are otherwise.
 */
export function realValues(constant: ConstantTensor): Float32Array {
  const out = Float32Array.from(constant.data);
  const q = constant.quantization;
  if (!q) return out;
  // Elements per slice of the quantized axis, and the slice count, in row-major order.
  const inner = constant.shape.slice(q.axis + 1).reduce((a, b) => a * b, 1);
  const slices = q.scale.length;
  for (let i = 0; i < out.length; i++) {
    const slice = slices === 1 ? 0 : Math.floor(i / inner) % slices;
    out[i] = ((out[i] as number) - (q.zeroPoint[slice] as number)) * (q.scale[slice] as number);
  }
  return out;
}
