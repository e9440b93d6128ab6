/**
 * Read-only, typed accessors over a TensorFlow Lite model (a FlatBuffer), for the converter.
 *
 * Only the parts of TFLite's schema.fbs the converter needs are here. Field ids are facts from
 * that schema (a table's field `id` sits at vtable offset 4 + 2 * id; a union takes two ids:
 * its type, then its value). Every read is bounds-checked: the `flatbuffers` runtime reads
 * zeros past the end of a buffer instead of failing, and a converter fed a truncated file must
 * say so rather than emit a model full of zeros.
 */
import { ByteBuffer } from 'flatbuffers';
import { ModelLoadError } from '../errors.js';

/** TFLite's TensorType enum. */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
  COMPLEX128: 11,
  UINT64: 12,
  RESOURCE: 13,
  VARIANT: 14,
  UINT32: 15,
  UINT16: 16,
  INT4: 17,
} as const;

const TENSOR_TYPE_NAMES = Object.fromEntries(Object.entries(TensorType).map(([name, code]) => [code, name]));

export function tensorTypeName(type: number): string {
  return TENSOR_TYPE_NAMES[type] ?? `type ${type}`;
}

/** TFLite's BuiltinOperator enum, by code (only the name is used: in messages and `ops`). */
const BUILTIN_OPERATOR_NAMES: readonly string[] = [
  'ADD',
  'AVERAGE_POOL_2D',
  'CONCATENATION',
  'CONV_2D',
  'DEPTHWISE_CONV_2D',
  'DEPTH_TO_SPACE',
  'DEQUANTIZE',
  'EMBEDDING_LOOKUP',
  'FLOOR',
  'FULLY_CONNECTED',
  'HASHTABLE_LOOKUP',
  'L2_NORMALIZATION',
  'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION',
  'LOGISTIC',
  'LSH_PROJECTION',
  'LSTM',
  'MAX_POOL_2D',
  'MUL',
  'RELU',
  'RELU_N1_TO_1',
  'RELU6',
  'RESHAPE',
  'RESIZE_BILINEAR',
  'RNN',
  'SOFTMAX',
  'SPACE_TO_DEPTH',
  'SVDF',
  'TANH',
  'CONCAT_EMBEDDINGS',
  'SKIP_GRAM',
  'CALL',
  'CUSTOM',
  'EMBEDDING_LOOKUP_SPARSE',
  'PAD',
  'UNIDIRECTIONAL_SEQUENCE_RNN',
  'GATHER',
  'BATCH_TO_SPACE_ND',
  'SPACE_TO_BATCH_ND',
  'TRANSPOSE',
  'MEAN',
  'SUB',
  'DIV',
  'SQUEEZE',
  'UNIDIRECTIONAL_SEQUENCE_LSTM',
  'STRIDED_SLICE',
  'BIDIRECTIONAL_SEQUENCE_RNN',
  'EXP',
  'TOPK_V2',
  'SPLIT',
  'LOG_SOFTMAX',
  'DELEGATE',
  'BIDIRECTIONAL_SEQUENCE_LSTM',
  'CAST',
  'PRELU',
  'MAXIMUM',
  'ARG_MAX',
  'MINIMUM',
  'LESS',
  'NEG',
  'PADV2',
  'GREATER',
  'GREATER_EQUAL',
  'LESS_EQUAL',
  'SELECT',
  'SLICE',
  'SIN',
  'TRANSPOSE_CONV',
  'SPARSE_TO_DENSE',
  'TILE',
  'EXPAND_DIMS',
  'EQUAL',
  'NOT_EQUAL',
  'LOG',
  'SUM',
  'SQRT',
  'RSQRT',
  'SHAPE',
  'POW',
  'ARG_MIN',
  'FAKE_QUANT',
  'REDUCE_PROD',
  'REDUCE_MAX',
  'PACK',
  'LOGICAL_OR',
  'ONE_HOT',
  'LOGICAL_AND',
  'LOGICAL_NOT',
  'UNPACK',
  'REDUCE_MIN',
  'FLOOR_DIV',
  'REDUCE_ANY',
  'SQUARE',
  'ZEROS_LIKE',
  'FILL',
  'FLOOR_MOD',
  'RANGE',
  'RESIZE_NEAREST_NEIGHBOR',
  'LEAKY_RELU',
  'SQUARED_DIFFERENCE',
  'MIRROR_PAD',
  'ABS',
  'SPLIT_V',
  'UNIQUE',
  'CEIL',
  'REVERSE_V2',
  'ADD_N',
  'GATHER_ND',
  'COS',
  'WHERE',
  'RANK',
  'ELU',
  'REVERSE_SEQUENCE',
  'MATRIX_DIAG',
  'QUANTIZE',
  'MATRIX_SET_DIAG',
  'ROUND',
  'HARD_SWISH',
  'IF',
  'WHILE',
  'NON_MAX_SUPPRESSION_V4',
  'NON_MAX_SUPPRESSION_V5',
  'SCATTER_ND',
  'SELECT_V2',
  'DENSIFY',
  'SEGMENT_SUM',
  'BATCH_MATMUL',
  'PLACEHOLDER_FOR_GREATER_OP_CODES',
  'CUMSUM',
  'CALL_ONCE',
  'BROADCAST_TO',
  'RFFT2D',
  'CONV_3D',
  'IMAG',
  'REAL',
  'COMPLEX_ABS',
  'HASHTABLE',
  'HASHTABLE_FIND',
  'HASHTABLE_IMPORT',
  'HASHTABLE_SIZE',
  'REDUCE_ALL',
  'CONV_3D_TRANSPOSE',
  'VAR_HANDLE',
  'READ_VARIABLE',
  'ASSIGN_VARIABLE',
  'BROADCAST_ARGS',
  'RANDOM_STANDARD_NORMAL',
  'BUCKETIZE',
  'RANDOM_UNIFORM',
  'MULTINOMIAL',
  'GELU',
  'DYNAMIC_UPDATE_SLICE',
  'RELU_0_TO_1',
  'UNSORTED_SEGMENT_PROD',
  'UNSORTED_SEGMENT_MAX',
  'UNSORTED_SEGMENT_SUM',
  'ATAN2',
  'UNSORTED_SEGMENT_MIN',
  'SIGN',
  'BITCAST',
  'BITWISE_XOR',
  'RIGHT_SHIFT',
];

export function builtinOperatorName(code: number): string {
  return BUILTIN_OPERATOR_NAMES[code] ?? `BUILTIN_${code}`;
}

/** Codes of the operators the converter handles by name. */
export const BuiltinOperator = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  RESIZE_BILINEAR: 23,
  SOFTMAX: 25,
  CUSTOM: 32,
  PAD: 34,
  MEAN: 40,
  SUB: 41,
  DIV: 42,
  CAST: 53,
  ARG_MAX: 56,
  SQRT: 75,
  PACK: 83,
  UNPACK: 88,
  FLOOR_DIV: 90,
  GATHER_ND: 107,
  QUANTIZE: 114,
  HARD_SWISH: 117,
  /** Codes below this fit the old one-byte field; above it only `builtin_code` holds them. */
  PLACEHOLDER_FOR_GREATER_OP_CODES: 127,
} as const;

/** The position of each options table in the BuiltinOptions union (its `type` value). */
export const BuiltinOptionsType = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ResizeBilinearOptions: 15,
  ReshapeOptions: 17,
  MulOptions: 21,
  ReducerOptions: 27,
  SubOptions: 28,
  DivOptions: 29,
  ArgMaxOptions: 40,
  PackOptions: 59,
  UnpackOptions: 64,
} as const;

export const Padding = { SAME: 0, VALID: 1 } as const;

export const ActivationFunctionType = {
  NONE: 0,
  RELU: 1,
  RELU_N1_TO_1: 2,
  RELU6: 3,
  TANH: 4,
  SIGN_BIT: 5,
} as const;

const ACTIVATION_NAMES = Object.fromEntries(
  Object.entries(ActivationFunctionType).map(([name, code]) => [code, name]),
);

export function activationName(code: number): string {
  return ACTIVATION_NAMES[code] ?? `activation ${code}`;
}

/** Thrown on any read that leaves the file; the caller adds which model it was. */
class OutOfBoundsError extends RangeError {}

/**
 * The FlatBuffer file and its bounds. All tables share one, so a bad offset anywhere is caught
 * by the same check.
 */
export class FlatFile {
  readonly bb: ByteBuffer;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.bb = new ByteBuffer(bytes);
  }

  need(position: number, size: number): void {
    if (!Number.isInteger(position) || position < 0 || position + size > this.bytes.length) {
      throw new OutOfBoundsError(`reads ${size} bytes at ${position} of a ${this.bytes.length}-byte file`);
    }
  }
}

/** Base of every table accessor: a position in the file and typed field reads. */
class Table {
  protected readonly file: FlatFile;
  protected readonly position: number;

  constructor(file: FlatFile, position: number) {
    file.need(position, 4);
    const vtable = position - file.bb.readInt32(position);
    file.need(vtable, 4);
    file.need(vtable, file.bb.readUint16(vtable));
    this.file = file;
    this.position = position;
  }

  /** Offset of field `id` inside this table, or 0 when the field is absent. */
  #field(id: number): number {
    const vtable = this.position - this.file.bb.readInt32(this.position);
    const entry = 4 + 2 * id;
    if (entry >= this.file.bb.readUint16(vtable)) return 0;
    return this.file.bb.readUint16(vtable + entry);
  }

  protected has(id: number): boolean {
    return this.#field(id) !== 0;
  }

  protected int8(id: number, fallback = 0): number {
    const offset = this.#field(id);
    if (!offset) return fallback;
    this.file.need(this.position + offset, 1);
    return this.file.bb.readInt8(this.position + offset);
  }

  protected uint8(id: number, fallback = 0): number {
    const offset = this.#field(id);
    if (!offset) return fallback;
    this.file.need(this.position + offset, 1);
    return this.file.bb.readUint8(this.position + offset);
  }

  protected bool(id: number, fallback = false): boolean {
    return this.uint8(id, fallback ? 1 : 0) !== 0;
  }

  protected int32(id: number, fallback = 0): number {
    const offset = this.#field(id);
    if (!offset) return fallback;
    this.file.need(this.position + offset, 4);
    return this.file.bb.readInt32(this.position + offset);
  }

  protected uint32(id: number, fallback = 0): number {
    const offset = this.#field(id);
    if (!offset) return fallback;
    this.file.need(this.position + offset, 4);
    return this.file.bb.readUint32(this.position + offset);
  }

  protected float32(id: number, fallback = 0): number {
    const offset = this.#field(id);
    if (!offset) return fallback;
    this.file.need(this.position + offset, 4);
    return this.file.bb.readFloat32(this.position + offset);
  }

  protected uint64(id: number, fallback = 0n): bigint {
    const offset = this.#field(id);
    if (!offset) return fallback;
    this.file.need(this.position + offset, 8);
    return this.file.bb.readUint64(this.position + offset);
  }

  /** Follows the uoffset stored in field `id`, or undefined when the field is absent. */
  #target(id: number): number | undefined {
    const offset = this.#field(id);
    if (!offset) return undefined;
    const at = this.position + offset;
    this.file.need(at, 4);
    const target = at + this.file.bb.readUint32(at);
    this.file.need(target, 4);
    return target;
  }

  protected table<T>(id: number, make: (file: FlatFile, position: number) => T): T | undefined {
    const target = this.#target(id);
    return target === undefined ? undefined : make(this.file, target);
  }

  protected string(id: number): string | undefined {
    const target = this.#target(id);
    if (target === undefined) return undefined;
    const length = this.file.bb.readUint32(target);
    this.file.need(target + 4, length);
    return new TextDecoder().decode(this.file.bytes.subarray(target + 4, target + 4 + length));
  }

  /** Start and length of the vector in field `id`, checked against the file for `size`-byte elements. */
  #vector(id: number, size: number): { start: number; length: number } | undefined {
    const target = this.#target(id);
    if (target === undefined) return undefined;
    const length = this.file.bb.readUint32(target);
    this.file.need(target + 4, length * size);
    return { start: target + 4, length };
  }

  protected bytes(id: number): Uint8Array | undefined {
    const vector = this.#vector(id, 1);
    return vector && this.file.bytes.subarray(vector.start, vector.start + vector.length);
  }

  protected int32s(id: number): number[] {
    const vector = this.#vector(id, 4);
    const out: number[] = [];
    for (let i = 0; i < (vector?.length ?? 0); i++)
      out.push(this.file.bb.readInt32((vector?.start ?? 0) + 4 * i));
    return out;
  }

  protected float32s(id: number): number[] {
    const vector = this.#vector(id, 4);
    const out: number[] = [];
    for (let i = 0; i < (vector?.length ?? 0); i++) {
      out.push(this.file.bb.readFloat32((vector?.start ?? 0) + 4 * i));
    }
    return out;
  }

  /** int64 values as numbers: zero points and the like, far inside the safe-integer range. */
  protected int64s(id: number): number[] {
    const vector = this.#vector(id, 8);
    const out: number[] = [];
    for (let i = 0; i < (vector?.length ?? 0); i++) {
      out.push(Number(this.file.bb.readInt64((vector?.start ?? 0) + 8 * i)));
    }
    return out;
  }

  protected tables<T>(id: number, make: (file: FlatFile, position: number) => T): T[] {
    const vector = this.#vector(id, 4);
    const out: T[] = [];
    for (let i = 0; i < (vector?.length ?? 0); i++) {
      const at = (vector?.start ?? 0) + 4 * i;
      const target = at + this.file.bb.readUint32(at);
      out.push(make(this.file, target));
    }
    return out;
  }
}

/** table QuantizationParameters { min 0, max 1, scale 2, zero_point 3, details 4-5, quantized_dimension 6 } */
export class QuantizationParameters extends Table {
  get scale(): number[] {
    return this.float32s(2);
  }
  get zeroPoint(): number[] {
    return this.int64s(3);
  }
  /** Non-zero when a custom quantization scheme replaces scale and zero point. */
  get detailsType(): number {
    return this.uint8(4);
  }
  get quantizedDimension(): number {
    return this.int32(6);
  }
}

/** table Tensor { shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, sparsity 6, shape_signature 7 } */
export class Tensor extends Table {
  get shape(): number[] {
    return this.int32s(0);
  }
  get type(): number {
    return this.int8(1);
  }
  get buffer(): number {
    return this.uint32(2);
  }
  get name(): string {
    return this.string(3) ?? '';
  }
  get quantization(): QuantizationParameters | undefined {
    return this.table(4, (file, position) => new QuantizationParameters(file, position));
  }
  get isVariable(): boolean {
    return this.bool(5);
  }
  get isSparse(): boolean {
    return this.has(6);
  }
}

/** table Conv2DOptions { padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5, quantized_bias_type 6 } */
export class Conv2DOptions extends Table {
  get padding(): number {
    return this.int8(0);
  }
  get strideW(): number {
    return this.int32(1);
  }
  get strideH(): number {
    return this.int32(2);
  }
  get fusedActivation(): number {
    return this.int8(3);
  }
  get dilationW(): number {
    return this.int32(4, 1);
  }
  get dilationH(): number {
    return this.int32(5, 1);
  }
}

/** table DepthwiseConv2DOptions { padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation_function 4, dilation_w 5, dilation_h 6 } */
export class DepthwiseConv2DOptions extends Table {
  get padding(): number {
    return this.int8(0);
  }
  get strideW(): number {
    return this.int32(1);
  }
  get strideH(): number {
    return this.int32(2);
  }
  get depthMultiplier(): number {
    return this.int32(3);
  }
  get fusedActivation(): number {
    return this.int8(4);
  }
  get dilationW(): number {
    return this.int32(5, 1);
  }
  get dilationH(): number {
    return this.int32(6, 1);
  }
}

/** table Pool2DOptions { padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5 } */
export class Pool2DOptions extends Table {
  get padding(): number {
    return this.int8(0);
  }
  get strideW(): number {
    return this.int32(1);
  }
  get strideH(): number {
    return this.int32(2);
  }
  get filterWidth(): number {
    return this.int32(3);
  }
  get filterHeight(): number {
    return this.int32(4);
  }
  get fusedActivation(): number {
    return this.int8(5);
  }
}

/** table FullyConnectedOptions { fused_activation_function 0, weights_format 1, keep_num_dims 2, asymmetric_quantize_inputs 3 } */
export class FullyConnectedOptions extends Table {
  get fusedActivation(): number {
    return this.int8(0);
  }
  get weightsFormat(): number {
    return this.int8(1);
  }
  get keepNumDims(): boolean {
    return this.bool(2);
  }
}

/** table SoftmaxOptions { beta 0 } */
export class SoftmaxOptions extends Table {
  get beta(): number {
    return this.float32(0);
  }
}

/** table ConcatenationOptions { axis 0, fused_activation_function 1 } */
export class ConcatenationOptions extends Table {
  get axis(): number {
    return this.int32(0);
  }
  get fusedActivation(): number {
    return this.int8(1);
  }
}

/** table AddOptions and MulOptions { fused_activation_function 0, ... } */
export class ActivationOptions extends Table {
  get fusedActivation(): number {
    return this.int8(0);
  }
}

/** table ArgMaxOptions { output_type 0 } */
export class ArgMaxOptions extends Table {
  /** The TensorType TFLite gives the output (it overrides the output tensor's own type). */
  get outputType(): number {
    return this.int8(0);
  }
}

/** table PackOptions { values_count 0, axis 1 } and UnpackOptions { num 0, axis 1 } */
export class PackOptions extends Table {
  get count(): number {
    return this.int32(0);
  }
  get axis(): number {
    return this.int32(1);
  }
}

/** table ReducerOptions { keep_dims 0 } */
export class ReducerOptions extends Table {
  get keepDims(): boolean {
    return this.bool(0);
  }
}

/** table ResizeBilinearOptions { new_height 0 (deprecated), new_width 1 (deprecated), align_corners 2, half_pixel_centers 3 } */
export class ResizeBilinearOptions extends Table {
  get alignCorners(): boolean {
    return this.bool(2);
  }
  get halfPixelCenters(): boolean {
    return this.bool(3);
  }
}

/** table Operator { opcode_index 0, inputs 1, outputs 2, builtin_options 3-4, custom_options 5, custom_options_format 6, ..., intermediates 8, ..., builtin_options_2 11-12 } */
export class Operator extends Table {
  get opcodeIndex(): number {
    return this.uint32(0);
  }
  /** Tensor indices; -1 marks an optional input that is left out. */
  get inputs(): number[] {
    return this.int32s(1);
  }
  get outputs(): number[] {
    return this.int32s(2);
  }
  get builtinOptionsType(): number {
    return this.uint8(3);
  }
  /** The options table, read as `make` says; undefined when the operator has none. */
  builtinOptions<T>(make: new (file: FlatFile, position: number) => T): T | undefined {
    return this.table(4, (file, position) => new make(file, position));
  }
  /** A custom operator's options: bytes whose format the operator defines (often a FlexBuffer). */
  get customOptions(): Uint8Array | undefined {
    return this.bytes(5);
  }
  /**
   * 0 (FLEXBUFFERS) is the only format the schema defines, though some operators (MediaPipe's)
   * store a C struct under it.
   */
  get customOptionsFormat(): number {
    return this.int8(6);
  }
}

/** table OperatorCode { deprecated_builtin_code 0, custom_code 1, version 2, builtin_code 3 } */
export class OperatorCode extends Table {
  /**
   * The operator's code. Files from before schema 3a only have the one-byte field; newer files
   * write both, and the int32 field wins when the old one holds the placeholder (127).
   */
  get builtinCode(): number {
    const deprecated = this.int8(0);
    const extended = this.int32(3);
    return Math.max(deprecated, extended);
  }
  get customCode(): string | undefined {
    return this.string(1);
  }
  get version(): number {
    return this.int32(2, 1);
  }
}

/** table SubGraph { tensors 0, inputs 1, outputs 2, operators 3, name 4 } */
export class SubGraph extends Table {
  get tensors(): Tensor[] {
    return this.tables(0, (file, position) => new Tensor(file, position));
  }
  get inputs(): number[] {
    return this.int32s(1);
  }
  get outputs(): number[] {
    return this.int32s(2);
  }
  get operators(): Operator[] {
    return this.tables(3, (file, position) => new Operator(file, position));
  }
  get name(): string | undefined {
    return this.string(4);
  }
}

/** table Buffer { data 0, offset 1, size 2 } */
export class Buffer extends Table {
  /** The bytes, inline or (models over 2 GB) stored after the FlatBuffer at offset/size. */
  get data(): Uint8Array {
    const inline = this.bytes(0);
    if (inline && inline.length > 0) return inline;
    const offset = Number(this.uint64(1));
    const size = Number(this.uint64(2));
    if (offset > 1) {
      this.file.need(offset, size);
      return this.file.bytes.subarray(offset, offset + size);
    }
    return new Uint8Array(0);
  }
}

/** table Model { version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, ... } */
export class Model extends Table {
  get version(): number {
    return this.uint32(0);
  }
  get operatorCodes(): OperatorCode[] {
    return this.tables(1, (file, position) => new OperatorCode(file, position));
  }
  get subgraphs(): SubGraph[] {
    return this.tables(2, (file, position) => new SubGraph(file, position));
  }
  get description(): string | undefined {
    return this.string(3);
  }
  get buffers(): Buffer[] {
    return this.tables(4, (file, position) => new Buffer(file, position));
  }
}

/**
 * Opens a .tflite file and checks what every reader of it relies on (see validateModel). Reads
 * are lazy, so any accessor may later throw; `withModelErrors` turns those failures into a
 * ModelLoadError that names the model.
 */
export function readTfliteModel(bytes: Uint8Array, label: string): Model {
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(4, 8)) !== 'TFL3') {
    throw new ModelLoadError(`${label} is not a TensorFlow Lite model (no TFL3 identifier)`);
  }
  return withModelErrors(label, () => {
    const file = new FlatFile(bytes);
    file.need(0, 4);
    const model = new Model(file, file.bb.readUint32(0));
    validateModel(model);
    return model;
  });
}

/**
 * Bounds on shapes. TFLite kernels take at most 6 dimensions; 2^28 elements (1 GiB of float32)
 * is far above any tensor of a vision model (a 4096x4096 RGB input is 2^25.6), and 2 GiB for
 * all tensors together is half of what a wasm32 LiteRT instance can address at all.
 */
export const SHAPE_LIMITS = { rank: 8, dimension: 1 << 24, elements: 1 << 28, totalBytes: 2 ** 31 } as const;

/** Bytes per element of the types whose buffers are plain arrays (not strings, not packed int4). */
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.UINT8]: 1,
  [TensorType.INT64]: 8,
  [TensorType.BOOL]: 1,
  [TensorType.INT16]: 2,
  [TensorType.COMPLEX64]: 8,
  [TensorType.INT8]: 1,
  [TensorType.FLOAT64]: 8,
  [TensorType.COMPLEX128]: 16,
  [TensorType.UINT64]: 8,
  [TensorType.UINT32]: 4,
  [TensorType.UINT16]: 2,
};

/**
 * Operators whose output has their first input's shape: a lowering sizes constants it folds
 * (a DEQUANTIZE of float16 weights) from the input, and the next operator reads them with the
 * output's shape, so the two must agree.
 */
const SHAPE_PRESERVING = new Set<number>([
  BuiltinOperator.DEQUANTIZE,
  BuiltinOperator.QUANTIZE,
  BuiltinOperator.RELU,
  BuiltinOperator.RELU6,
  BuiltinOperator.SOFTMAX,
]);

/** The reason a model is refused: reported like a read past the end, as a corrupt model. */
class InvalidModelError extends OutOfBoundsError {}

function checkShape(shape: readonly number[], what: string): number {
  if (shape.length > SHAPE_LIMITS.rank)
    throw new InvalidModelError(
      `${what} has ${shape.length} dimensions; at most ${SHAPE_LIMITS.rank} are allowed`,
    );
  let elements = 1;
  for (const dimension of shape) {
    // -1 marks a dimension only known at run time (as in shape_signature).
    if (dimension < -1 || dimension > SHAPE_LIMITS.dimension)
      throw new InvalidModelError(`${what} has a dimension of ${dimension}`);
    elements *= Math.max(dimension, 1);
    if (elements > SHAPE_LIMITS.elements)
      throw new InvalidModelError(
        `${what} has more than ${SHAPE_LIMITS.elements} elements ([${shape.join(', ')}])`,
      );
  }
  return elements;
}

function checkIndex(index: number, count: number, what: string, optional = false): void {
  if (optional && index === -1) return;
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new InvalidModelError(`${what} names tensor ${index}, but the subgraph has ${count}`);
}

/** Tensors: bounded shapes, existing buffers, and a buffer's size matching its tensor's shape. */
function checkTensors(tensors: readonly Tensor[], buffers: readonly Buffer[], where: string): number[][] {
  let totalBytes = 0;
  return tensors.map((tensor, index) => {
    const what = `${where} tensor ${index}`;
    const shape = tensor.shape;
    const elements = checkShape(shape, what);
    const size = ELEMENT_BYTES[tensor.type];
    totalBytes += elements * (size ?? 1);
    if (totalBytes > SHAPE_LIMITS.totalBytes)
      throw new InvalidModelError(`the tensors of ${where} need more than ${SHAPE_LIMITS.totalBytes} bytes`);
    const bufferIndex = tensor.buffer;
    // Buffer 0 is the empty sentinel every tensor without data names, even when absent.
    if (bufferIndex === 0) return shape;
    const buffer = buffers[bufferIndex];
    if (!buffer)
      throw new InvalidModelError(`${what} names buffer ${bufferIndex}, but the model has ${buffers.length}`);
    const bytes = buffer.data.length;
    if (bytes === 0 || size === undefined || tensor.isSparse || shape.includes(-1)) return shape;
    const needed = shape.reduce((a, b) => a * b, 1) * size;
    if (bytes !== needed) {
      throw new InvalidModelError(
        `${what} has shape [${shape.join(', ')}] (${needed} bytes), but its buffer holds ${bytes}`,
      );
    }
    return shape;
  });
}

/** Operators: an existing operator code, inputs and outputs that name existing tensors. */
function checkOperators(model: Model, subgraph: SubGraph, shapes: readonly number[][], where: string): void {
  const codes = model.operatorCodes;
  const count = shapes.length;
  subgraph.operators.forEach((operator, index) => {
    const what = `${where} operator ${index}`;
    const code = codes[operator.opcodeIndex];
    if (!code)
      throw new InvalidModelError(`${what} names operator code ${operator.opcodeIndex}, of ${codes.length}`);
    const inputs = operator.inputs;
    const outputs = operator.outputs;
    for (const input of inputs) checkIndex(input, count, `${what} (input)`, true);
    for (const output of outputs) checkIndex(output, count, `${what} (output)`);
    const builtin = code.builtinCode;
    if (
      SHAPE_PRESERVING.has(builtin) &&
      inputs[0] !== undefined &&
      inputs[0] >= 0 &&
      outputs[0] !== undefined
    ) {
      const from = shapes[inputs[0]] as number[];
      const to = shapes[outputs[0]] as number[];
      if (!from.includes(-1) && !to.includes(-1) && from.join(',') !== to.join(',')) {
        throw new InvalidModelError(
          `${what} (${builtinOperatorName(builtin)}) turns shape [${from.join(', ')}] into [${to.join(', ')}]`,
        );
      }
    }
  });
}

/**
 * Checks, before anything allocates or loops by a model's numbers, that those numbers hold
 * together: every shape is within SHAPE_LIMITS, every buffer holds what its tensor's shape
 * says, every index (operator code, tensor, buffer) names something that exists, and
 * shape-preserving operators preserve shapes. A model that fails is corrupt (or hostile).
 */
function validateModel(model: Model): void {
  const buffers = model.buffers;
  model.subgraphs.forEach((subgraph, s) => {
    const where = `subgraph ${s}`;
    const shapes = checkTensors(subgraph.tensors, buffers, where);
    for (const index of subgraph.inputs) checkIndex(index, shapes.length, `${where} input`);
    for (const index of subgraph.outputs) checkIndex(index, shapes.length, `${where} output`);
    checkOperators(model, subgraph, shapes, where);
  });
}

/** Runs `read`, reporting reads past the end of the file as a truncated or corrupt model. */
export function withModelErrors<T>(label: string, read: () => T): T {
  try {
    return read();
  } catch (cause) {
    if (cause instanceof OutOfBoundsError) {
      throw new ModelLoadError(`${label} is truncated or corrupt: ${cause.message}`, { cause });
    }
    throw cause;
  }
}
