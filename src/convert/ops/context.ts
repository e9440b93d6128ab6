/**
 * The state of one conversion: the TFLite subgraph being read and the ONNX graph being written.
 *
 * Layout. TFLite is NHWC throughout; ONNX's Conv and pooling ops are NCHW. Every TFLite tensor
 * may exist in the ONNX graph in either layout, and `value(index, layout)` hands out the one an
 * op asks for, adding a Transpose (once per tensor and layout) when only the other exists. Ops
 * that work on channels ask for NCHW, ops that see memory order (RESHAPE, FULLY_CONNECTED,
 * SOFTMAX) ask for NHWC, and the graph's inputs and outputs are NHWC, so the caller feeds the
 * very bytes it feeds LiteRT. ORT's optimizer then removes most transposes (it runs the
 * quantized ops in NHWC itself).
 */
import { ModelLoadError } from '../../errors.js';
import type { FlatFile } from '../../tflite/flatbuffer.js';
import {
  type Model,
  type Operator,
  type SubGraph,
  TENSOR_TYPE_BYTES,
  type Tensor,
  TensorType,
  type Buffer as TfliteBuffer,
  tensorTypeName,
} from '../../tflite/schema.js';
import {
  attr,
  type OnnxAttributeValue,
  OnnxDataType,
  type OnnxNode,
  type OnnxTensor,
} from '../onnx-writer.js';

export type Layout = 'nhwc' | 'nchw';

/**
 * The name of a batched graph's open leading dimension. TFLite models are written for a batch
 * of one; a batched graph (LoweringContext.batched) leaves that dimension open on its inputs and
 * outputs, and every shape the graph states inside keeps it open too (`shapeOperand`), so
 * onnxruntime runs N items in one call.
 */
export const BATCH_DIMENSION = 'batch';

/**
 * A model whose graph cannot leave its batch dimension open (an op works across it, or
 * reshapes it away): convert.ts then converts it again unbatched, and says why.
 */
export class NotBatchableError extends ModelLoadError {}

/** NHWC -> NCHW and back, as Transpose perms. */
export const TO_NCHW = [0, 3, 1, 2] as const;
export const TO_NHWC = [0, 2, 3, 1] as const;

export interface QuantParams {
  readonly scales: readonly number[];
  readonly zeroPoints: readonly number[];
  readonly dimension: number;
}

export interface TensorView {
  readonly index: number;
  readonly name: string;
  /**
   * TFLite TensorType as the ONNX graph holds it: a quantized INT8 tensor is held as UINT8 (see
   * `tensor`), so this says UINT8 for it.
   */
  readonly type: number;
  /** The TensorType stored in the .tflite file. */
  readonly tfliteType: number;
  readonly shape: readonly number[];
  /** Present for UINT8 and INT8 tensors that carry scale and zero point. */
  readonly quant: QuantParams | undefined;
}

/**
 * Quantized int8 tensors enter the ONNX graph as uint8: value + 128, zero point + 128. Every
 * quantized op depends on (value - zero point) only, and the type's range moves with it, so
 * this is exact. It makes the graph the one onnxruntime computes exactly on every x86 CPU:
 * uint8 activations times int8 weights (conv.ts re-centres the weights back to int8), whose
 * u8 x u8 fallback `session.x64quantprecision` selects on CPUs without VNNI. int8 activations
 * have no such fallback: ORT rewrites their weights to uint8 too and then finds no int8 x uint8
 * kernel ("Failed to find kernel for com.microsoft.QLinearConv ... tensor(int8)").
 */
const INT8_TO_UINT8 = 128;

function heldAsUint8(type: number, quant: QuantParams | undefined): boolean {
  return type === TensorType.INT8 && quant !== undefined;
}

/** One TFLite operator as the lowering functions see it. */
export interface OperatorView {
  readonly index: number;
  readonly code: number;
  readonly name: string;
  /** The custom_code of a CUSTOM operator (the name its lowering is chosen by). */
  readonly customCode: string | undefined;
  readonly version: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operator: Operator;
}

const ONNX_TYPE: Readonly<Record<number, OnnxDataType>> = {
  [TensorType.FLOAT32]: OnnxDataType.FLOAT,
  [TensorType.INT32]: OnnxDataType.INT32,
  [TensorType.UINT8]: OnnxDataType.UINT8,
  [TensorType.INT8]: OnnxDataType.INT8,
  [TensorType.INT64]: OnnxDataType.INT64,
};

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Reorders the dimensions of a row-major tensor held as raw bytes: output dimension i is input
 * dimension perm[i].
 */
export function permuteRaw(
  raw: Uint8Array,
  elementSize: number,
  shape: readonly number[],
  perm: readonly number[],
): Uint8Array {
  const rank = shape.length;
  const outShape = perm.map((axis) => shape[axis] as number);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = (inStrides[i + 1] as number) * (shape[i + 1] as number);
  const strides = perm.map((axis) => inStrides[axis] as number);
  // Whole elements are moved as one number; the copy gives the typed view an aligned buffer.
  const View = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array }[elementSize as 1 | 2 | 4];
  if (!View) throw new RangeError(`no ${elementSize}-byte element type`);
  // new Uint8Array(raw) copies, whatever raw is (Buffer's slice() would not).
  const from = new View(new Uint8Array(raw).buffer);
  const to = new View(from.length);
  // Padded to four dimensions (weights are at most 4-D), so the loops below are plain.
  const pad = 4 - rank;
  if (pad < 0) throw new RangeError(`cannot permute a rank-${rank} tensor`);
  const size = [...new Array<number>(pad).fill(1), ...outShape] as [number, number, number, number];
  const step = [...new Array<number>(pad).fill(0), ...strides] as [number, number, number, number];
  let o = 0;
  for (let i = 0; i < size[0]; i++) {
    for (let j = 0; j < size[1]; j++) {
      for (let k = 0; k < size[2]; k++) {
        let source = i * step[0] + j * step[1] + k * step[2];
        for (let l = 0; l < size[3]; l++, source += step[3]) to[o++] = from[source] as number;
      }
    }
  }
  return new Uint8Array(to.buffer);
}

export function rawFloat32(values: readonly number[] | Float32Array): Uint8Array {
  const array = Float32Array.from(values);
  return new Uint8Array(array.buffer);
}

export function rawInt64(values: readonly number[]): Uint8Array {
  const array = BigInt64Array.from(values.map((v) => BigInt(v)));
  return new Uint8Array(array.buffer);
}

/** Little-endian int32 values of raw bytes (a TFLite INT32 buffer). */
export function readInt32s(raw: Uint8Array): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= raw.length; i += 4) out.push(view.getInt32(i, true));
  return out;
}

export class LoweringContext {
  readonly label: string;
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  /** Domains used beyond the default one, e.g. com.microsoft. */
  readonly domains = new Set<string>();
  readonly #model: Model;
  readonly #tensors: Tensor[];
  readonly #views = new Map<number, TensorView>();
  readonly #buffers: TfliteBuffer[];
  /** Constant values computed at conversion time (a DEQUANTIZE of a constant), by tensor. */
  readonly #folded = new Map<number, { type: number; raw: Uint8Array }>();
  readonly #values = new Map<number, Map<Layout, string>>();
  readonly #taken = new Set<string>();
  readonly #cache = new Map<string, string>();
  #counter = 0;
  /** The operator being lowered, for messages. */
  current: OperatorView | undefined;
  /** Whether the graph leaves the batch dimension open (see BATCH_DIMENSION). */
  readonly batched: boolean;

  constructor(model: Model, subgraph: SubGraph, label: string, batched = false) {
    this.label = label;
    this.batched = batched;
    this.#model = model;
    this.#tensors = subgraph.tensors;
    this.#buffers = model.buffers;
  }

  get model(): Model {
    return this.#model;
  }

  /** A ModelLoadError naming the model and, when lowering one, the operator. */
  error(reason: string): ModelLoadError {
    return new ModelLoadError(`cannot convert ${this.label} to ONNX: ${reason}${this.#where()}`);
  }

  #where(): string {
    const op = this.current;
    return op ? ` (${op.name}, operator ${op.index} of subgraph 0)` : '';
  }

  /** Why this graph cannot be batched, naming the operator. */
  notBatchable(reason: string): NotBatchableError {
    return new NotBatchableError(`${reason}${this.#where()}`);
  }

  /** In a batched graph, an op working along TFLite axis 0 (the batch) cannot be lowered. */
  requireNotBatchAxis(axes: readonly number[], what: string): void {
    if (this.batched && axes.includes(0)) throw this.notBatchable(`${what} works along the batch axis`);
  }

  /**
   * The int64 shape operand of a Reshape to `shape` (TFLite's, batch of one): in a batched
   * graph its leading 1 becomes -1, the batch onnxruntime infers, so N items reshape as one
   * did. A shape not led by the batch cannot be batched.
   */
  shapeOperand(shape: readonly number[]): string {
    if (!this.batched) return this.int64s(shape);
    if (shape[0] !== 1 || shape.length < 2)
      throw this.notBatchable(`a reshape to [${shape}] does not keep the batch dimension first`);
    return this.int64s([-1, ...shape.slice(1)]);
  }

  /**
   * Full sizes for a Resize of `x` to `shape` (ONNX wants every dimension's): in a batched
   * graph the leading one is read from `x` at run time.
   */
  sizesOperand(x: string, shape: readonly number[]): string {
    if (!this.batched) return this.int64s(shape);
    const batch = this.op('Slice', [this.op('Shape', [x]), this.int64s([0]), this.int64s([1])]);
    return this.op('Concat', [batch, this.int64s(shape.slice(1))], { axis: attr.int(0) });
  }

  tensor(index: number): TensorView {
    const cached = this.#views.get(index);
    if (cached) return cached;
    const tensor = this.#tensors[index];
    if (!tensor) throw this.error(`tensor ${index} does not exist`);
    if (tensor.isSparse) throw this.error(`sparse tensor '${tensor.name}' is not supported`);
    const type = tensor.type;
    let quant: QuantParams | undefined;
    const q = tensor.quantization;
    if (q && (type === TensorType.UINT8 || type === TensorType.INT8)) {
      if (q.detailsType !== 0) throw this.error(`custom quantization of '${tensor.name}' is not supported`);
      const scales = q.scale;
      if (scales.length > 0) {
        const zeroPoints = q.zeroPoint;
        quant = {
          scales,
          zeroPoints: zeroPoints.length > 0 ? zeroPoints : scales.map(() => 0),
          dimension: q.quantizedDimension,
        };
      }
    }
    const shifted = heldAsUint8(type, quant) && quant;
    const view: TensorView = shifted
      ? {
          index,
          name: tensor.name,
          type: TensorType.UINT8,
          tfliteType: type,
          shape: tensor.shape,
          quant: { ...shifted, zeroPoints: shifted.zeroPoints.map((z) => z + INT8_TO_UINT8) },
        }
      : { index, name: tensor.name, type, tfliteType: type, shape: tensor.shape, quant };
    this.#views.set(index, view);
    return view;
  }

  /** Raw bytes of a constant tensor (from the model, or folded at conversion time). */
  constant(index: number): { type: number; raw: Uint8Array } | undefined {
    const folded = this.#folded.get(index);
    if (folded) return folded;
    const tensor = this.#tensors[index];
    if (!tensor) return undefined;
    const buffer = tensor.buffer === 0 ? undefined : this.#buffers[tensor.buffer];
    const raw = buffer?.data;
    if (!raw || raw.length === 0) return undefined;
    const view = this.tensor(index);
    const expected = elementCount(view.shape) * (TENSOR_TYPE_BYTES[view.type] ?? 0);
    if (raw.length !== expected) {
      throw this.error(`constant '${view.name}' holds ${raw.length} bytes, its shape needs ${expected}`);
    }
    if (view.type !== view.tfliteType) {
      // An int8 constant held as uint8 (see INT8_TO_UINT8): x + 128 is x with its top bit flipped.
      const held = raw.map((byte) => byte ^ 0x80);
      this.#folded.set(index, { type: view.type, raw: held });
      return { type: view.type, raw: held };
    }
    return { type: view.type, raw };
  }

  /** A constant tensor's bytes, or a clear error naming what was expected. */
  requireConstant(index: number, what: string): Uint8Array {
    const constant = this.constant(index);
    if (!constant) throw this.error(`${what} must be a constant tensor`);
    return constant.raw;
  }

  fold(index: number, type: number, raw: Uint8Array): void {
    this.#folded.set(index, { type, raw });
  }

  /** Marks a name as used by the graph's inputs or outputs, so internal names avoid it. */
  reserve(name: string): void {
    this.#taken.add(name);
  }

  /** A new, unused value name. */
  fresh(hint: string): string {
    let name: string;
    do {
      name = `${hint}_${this.#counter++}`;
    } while (this.#taken.has(name));
    this.#taken.add(name);
    return name;
  }

  /** Records that TFLite tensor `index` is available as ONNX value `name` in `layout`. */
  bind(index: number, layout: Layout, name: string): void {
    const key = this.tensor(index).shape.length === 4 ? layout : 'nhwc';
    let layouts = this.#values.get(index);
    if (!layouts) {
      layouts = new Map();
      this.#values.set(index, layouts);
    }
    layouts.set(key, name);
  }

  /** The ONNX value holding TFLite tensor `index` in `layout` (ignored below rank 4). */
  value(index: number, layout: Layout): string {
    const view = this.tensor(index);
    const key: Layout = view.shape.length === 4 ? layout : 'nhwc';
    const layouts = this.#values.get(index);
    const existing = layouts?.get(key);
    if (existing) return existing;
    if (layouts && layouts.size > 0) {
      const [[from, source]] = [...layouts.entries()] as [[Layout, string]];
      const name = this.fresh(`t${index}_${key}`);
      const perm = from === 'nhwc' ? TO_NCHW : TO_NHWC;
      if (view.shape[1] === 1 && view.shape[2] === 1) {
        // 1x1 pixels: both layouts hold the same bytes, only the shape changes.
        const shape = key === 'nchw' ? TO_NCHW.map((axis) => view.shape[axis] as number) : view.shape;
        this.emit('Reshape', [source, this.shapeOperand(shape)], [name]);
      } else {
        this.emit('Transpose', [source], [name], { perm: attr.ints(perm) });
      }
      this.bind(index, key, name);
      return name;
    }
    const constant = this.constant(index);
    if (!constant) throw this.error(`tensor '${view.name}' is used before any operator writes it`);
    const dataType = ONNX_TYPE[constant.type];
    if (dataType === undefined) {
      throw this.error(`constant '${view.name}' has unsupported type ${tensorTypeName(constant.type)}`);
    }
    const size = TENSOR_TYPE_BYTES[constant.type] as number;
    const nchw = key === 'nchw';
    const name = this.initializer(
      `c${index}`,
      dataType,
      nchw ? TO_NCHW.map((axis) => view.shape[axis] as number) : view.shape,
      nchw ? permuteRaw(constant.raw, size, view.shape, TO_NCHW) : constant.raw,
    );
    this.bind(index, key, name);
    return name;
  }

  /**
   * The layout tensor `index` is already held in, NCHW when both or neither are: element-wise
   * ops take either, and asking for the one at hand adds no Transpose.
   */
  heldLayout(index: number): Layout {
    const layouts = this.#values.get(index);
    return layouts?.has('nhwc') && !layouts.has('nchw') ? 'nhwc' : 'nchw';
  }

  /**
   * A value with TFLite's memory order, for ops that see a tensor as flat memory (RESHAPE,
   * FULLY_CONNECTED). With height and width 1, NCHW and NHWC order the same bytes, so the
   * value at hand serves and no Transpose is needed.
   */
  flatValue(index: number): string {
    const view = this.tensor(index);
    if (view.shape.length === 4 && view.shape[1] === 1 && view.shape[2] === 1) {
      const existing = this.#values.get(index)?.values().next().value;
      if (existing) return existing;
    }
    return this.value(index, 'nhwc');
  }

  emit(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes?: Record<string, OnnxAttributeValue>,
    domain?: string,
  ): void {
    if (domain) this.domains.add(domain);
    this.nodes.push({
      opType,
      inputs,
      outputs,
      ...(attributes ? { attributes } : {}),
      ...(domain ? { domain } : {}),
    });
  }

  /** Emits one node with a fresh output and returns that output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: Record<string, OnnxAttributeValue>,
    domain?: string,
  ): string {
    const output = this.fresh(opType.toLowerCase());
    this.emit(opType, inputs, [output], attributes, domain);
    return output;
  }

  initializer(hint: string, dataType: OnnxDataType, dims: readonly number[], raw: Uint8Array): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dataType, dims, raw });
    return name;
  }

  /** A scalar or 1-D initializer shared by every user with the same value. */
  #shared(key: string, make: () => string): string {
    let name = this.#cache.get(key);
    if (!name) {
      name = make();
      this.#cache.set(key, name);
    }
    return name;
  }

  float32Scalar(value: number): string {
    return this.#shared(`f32:${Math.fround(value)}`, () =>
      this.initializer('scale', OnnxDataType.FLOAT, [], rawFloat32([value])),
    );
  }

  int32Scalar(value: number): string {
    return this.#shared(`i32:${value}`, () =>
      this.initializer('int', OnnxDataType.INT32, [], new Uint8Array(Int32Array.of(value).buffer)),
    );
  }

  /** A uint8 or int8 scalar (a zero point or a clamp bound), typed like the TFLite tensor type. */
  quantScalar(value: number, type: number): string {
    const onnxType = quantOnnxType(type);
    return this.#shared(`q${onnxType}:${value}`, () =>
      this.initializer('zero_point', onnxType, [], Uint8Array.of(value & 0xff)),
    );
  }

  int64s(values: readonly number[]): string {
    return this.#shared(`i64:${values.join(',')}`, () =>
      this.initializer('shape', OnnxDataType.INT64, [values.length], rawInt64(values)),
    );
  }

  /** Names of the scale and zero-point initializers of a per-tensor quantized tensor. */
  quantInputs(view: TensorView): [scale: string, zeroPoint: string] {
    const quant = this.requirePerTensor(view);
    return [
      this.float32Scalar(quant.scales[0] as number),
      this.quantScalar(quant.zeroPoints[0] as number, view.type),
    ];
  }

  requirePerTensor(view: TensorView): QuantParams {
    const quant = view.quant;
    if (!quant) throw this.error(`quantized tensor '${view.name}' has no scale and zero point`);
    if (quant.scales.length !== 1) {
      throw this.error(`tensor '${view.name}' is quantized per channel where only per-tensor is supported`);
    }
    return quant;
  }

  /** requirePerTensor of each view, as a tuple of the same length (a binary op's a, b, output). */
  requirePerTensorEach<const Views extends readonly TensorView[]>(
    views: Views,
  ): { readonly [K in keyof Views]: QuantParams } {
    return views.map((view) => this.requirePerTensor(view)) as { readonly [K in keyof Views]: QuantParams };
  }
}

/** The operator's builtin options table, checked to be of the expected union member. */
export function optionsOf<T>(
  ctx: LoweringContext,
  op: OperatorView,
  type: number,
  make: new (file: FlatFile, position: number) => T,
): T {
  const options = op.operator.builtinOptionsType === type ? op.operator.builtinOptions(make) : undefined;
  if (!options) throw ctx.error(`the operator's options are missing or of the wrong kind`);
  return options;
}

/** Ranks and types an operator needs, checked up front so a lowering can trust them. */
export function requireRank(ctx: LoweringContext, view: TensorView, rank: number): void {
  if (view.shape.length !== rank) {
    throw ctx.error(`tensor '${view.name}' has shape [${view.shape}], expected rank ${rank}`);
  }
}

/** Fails unless every tensor is float32 (the non-quantized path of an op). */
export function requireFloat(ctx: LoweringContext, ...views: TensorView[]): void {
  for (const view of views) {
    if (view.type !== TensorType.FLOAT32) {
      throw ctx.error(
        `tensor '${view.name}' is ${tensorTypeName(view.type)}, expected FLOAT32 or a quantized type`,
      );
    }
  }
}

export function isQuantizedType(type: number): boolean {
  return type === TensorType.UINT8 || type === TensorType.INT8;
}

export function quantOnnxType(type: number): OnnxDataType {
  return type === TensorType.INT8 ? OnnxDataType.INT8 : OnnxDataType.UINT8;
}

export function quantRange(type: number): [number, number] {
  return type === TensorType.INT8 ? [-128, 127] : [0, 255];
}

export function onnxType(type: number): OnnxDataType | undefined {
  return ONNX_TYPE[type];
}
