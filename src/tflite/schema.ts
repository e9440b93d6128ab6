/**
 * Read-only, typed accessors over a TensorFlow Lite model (a FlatBuffer): the one reader of
 * the schema, used by the structural check before LiteRT, the converter, graph cuts and tasks
 * that read constants (open a file with readTfliteModel in ./read.ts).
 *
 * Only the parts of TFLite's schema.fbs we need are here. Field ids are facts from that schema
 * (a table's field `id` sits at vtable offset 4 + 2 * id; a union takes two ids: its type,
 * then its value). Every read is bounds-checked by FlatFile (./flatbuffer.ts): a reader fed a
 * truncated file must say so rather than read zeros.
 */
import type { FlatFile, VectorSpan } from './flatbuffer.js';

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

/** Bytes per element of the types whose buffers are plain arrays (not strings, not packed int4). */
export const TENSOR_TYPE_BYTES: Readonly<Record<number, number>> = {
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

/** One decoder for every name read (making one per string costs more than the decoding). */
const UTF8 = new TextDecoder();

/** Base of every table accessor: a position in the file and typed field reads. */
class Table {
  protected readonly file: FlatFile;
  protected readonly position: number;
  // Checked once here; every field read then needs only its own bounds check.
  readonly #vtable: number;
  readonly #vtableSize: number;

  constructor(file: FlatFile, position: number) {
    this.#vtable = file.vtableOf(position);
    this.#vtableSize = file.u16(this.#vtable);
    this.file = file;
    this.position = position;
  }

  #at(id: number): number | undefined {
    return this.file.fieldIn(this.position, this.#vtable, this.#vtableSize, id);
  }

  #vector(id: number, elementSize: number): VectorSpan | undefined {
    const at = this.#at(id);
    return at === undefined ? undefined : this.file.vectorAt(at, elementSize);
  }

  protected has(id: number): boolean {
    return this.#at(id) !== undefined;
  }

  protected int8(id: number, fallback = 0): number {
    const at = this.#at(id);
    return at === undefined ? fallback : this.file.i8(at);
  }

  protected uint8(id: number, fallback = 0): number {
    const at = this.#at(id);
    return at === undefined ? fallback : this.file.u8(at);
  }

  protected bool(id: number, fallback = false): boolean {
    return this.uint8(id, fallback ? 1 : 0) !== 0;
  }

  protected int32(id: number, fallback = 0): number {
    const at = this.#at(id);
    return at === undefined ? fallback : this.file.i32(at);
  }

  protected uint32(id: number, fallback = 0): number {
    const at = this.#at(id);
    return at === undefined ? fallback : this.file.u32(at);
  }

  protected float32(id: number, fallback = 0): number {
    const at = this.#at(id);
    return at === undefined ? fallback : this.file.f32(at);
  }

  protected uint64(id: number, fallback = 0n): bigint {
    const at = this.#at(id);
    return at === undefined ? fallback : this.file.u64(at);
  }

  /** The table field `id` points to, read as `make` says; undefined when absent. */
  protected table<T>(id: number, make: (file: FlatFile, position: number) => T): T | undefined {
    const at = this.#at(id);
    return at === undefined ? undefined : make(this.file, this.file.deref(at));
  }

  protected bytes(id: number): Uint8Array | undefined {
    const span = this.#vector(id, 1);
    return span && this.file.bytes.subarray(span.start, span.start + span.count);
  }

  protected string(id: number): string | undefined {
    const bytes = this.bytes(id);
    return bytes && UTF8.decode(bytes);
  }

  protected int32s(id: number): number[] {
    const span = this.#vector(id, 4);
    return span ? this.file.int32s(span) : [];
  }

  protected float32s(id: number): number[] {
    const span = this.#vector(id, 4);
    return span ? this.file.float32s(span) : [];
  }

  /** int64 values as numbers: zero points and the like, far inside the safe-integer range. */
  protected int64s(id: number): number[] {
    const span = this.#vector(id, 8);
    return span ? this.file.int64s(span) : [];
  }

  protected tables<T>(id: number, make: (file: FlatFile, position: number) => T): T[] {
    const span = this.#vector(id, 4);
    const out: T[] = [];
    for (let i = 0; i < (span?.count ?? 0); i++)
      out.push(make(this.file, this.file.deref((span?.start ?? 0) + 4 * i)));
    return out;
  }
}

/** table QuantizationParameters { min 0, max 1, scale 2, zero_point 3, details 4-5, quantized_dimension 6 } */
export class QuantizationParameters extends Table {
  get min(): number[] {
    return this.float32s(0);
  }
  get max(): number[] {
    return this.float32s(1);
  }
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
export const TENSOR_FIELD = { shape: 0 } as const;

export class Tensor extends Table {
  get shape(): number[] {
    return this.int32s(TENSOR_FIELD.shape);
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
  /** The shape with -1 where a dimension is only known at run time. */
  get shapeSignature(): number[] {
    return this.int32s(7);
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
export const SUBGRAPH_FIELD = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;

export class SubGraph extends Table {
  get tensors(): Tensor[] {
    return this.tables(SUBGRAPH_FIELD.tensors, (file, position) => new Tensor(file, position));
  }
  get inputs(): number[] {
    return this.int32s(SUBGRAPH_FIELD.inputs);
  }
  get outputs(): number[] {
    return this.int32s(SUBGRAPH_FIELD.outputs);
  }
  get operators(): Operator[] {
    return this.tables(SUBGRAPH_FIELD.operators, (file, position) => new Operator(file, position));
  }
  get name(): string | undefined {
    return this.string(SUBGRAPH_FIELD.name);
  }
}

/** table Buffer { data 0, offset 1, size 2 } */
export class Buffer extends Table {
  /** The bytes, inline or (models over 2 GB) stored after the FlatBuffer at offset/size. */
  get data(): Uint8Array {
    const inline = this.bytes(0);
    if (inline && inline.length > 0) return inline;
    const external = this.external;
    return external
      ? this.file.bytes.subarray(external.offset, external.offset + external.size)
      : new Uint8Array(0);
  }
  /** Where data stored after the FlatBuffer lies, checked to be inside the file (offset 0 or 1: none). */
  get external(): { offset: number; size: number } | undefined {
    const offset = Number(this.uint64(1));
    if (offset <= 1) return undefined;
    const size = Number(this.uint64(2));
    this.file.need(offset, size);
    return { offset, size };
  }
}

/** table Metadata { name 0, buffer 1 } */
export class Metadata extends Table {
  get name(): string | undefined {
    return this.string(0);
  }
}

/** table TensorMap { name 0, tensor_index 1 } */
export class TensorMap extends Table {
  get name(): string | undefined {
    return this.string(0);
  }
  get tensorIndex(): number {
    return this.uint32(1);
  }
}

/** table SignatureDef { inputs 0, outputs 1, signature_key 2, deprecated_tag 3, subgraph_index 4 } */
export class SignatureDef extends Table {
  get inputs(): TensorMap[] {
    return this.tables(0, (file, position) => new TensorMap(file, position));
  }
  get outputs(): TensorMap[] {
    return this.tables(1, (file, position) => new TensorMap(file, position));
  }
  get key(): string | undefined {
    return this.string(2);
  }
}

/** table Model { version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata_buffer 5, metadata 6, signature_defs 7 } */
export const MODEL_FIELD = {
  version: 0,
  operatorCodes: 1,
  subgraphs: 2,
  description: 3,
  buffers: 4,
  metadataBuffer: 5,
  metadata: 6,
  signatureDefs: 7,
} as const;

export class Model extends Table {
  get version(): number {
    return this.uint32(MODEL_FIELD.version);
  }
  get operatorCodes(): OperatorCode[] {
    return this.tables(MODEL_FIELD.operatorCodes, (file, position) => new OperatorCode(file, position));
  }
  get subgraphs(): SubGraph[] {
    return this.tables(MODEL_FIELD.subgraphs, (file, position) => new SubGraph(file, position));
  }
  get description(): string | undefined {
    return this.string(MODEL_FIELD.description);
  }
  get buffers(): Buffer[] {
    return this.tables(MODEL_FIELD.buffers, (file, position) => new Buffer(file, position));
  }
  /** Indices of buffers that hold metadata. */
  get metadataBuffer(): number[] {
    return this.int32s(MODEL_FIELD.metadataBuffer);
  }
  get metadata(): Metadata[] {
    return this.tables(MODEL_FIELD.metadata, (file, position) => new Metadata(file, position));
  }
  get signatureDefs(): SignatureDef[] {
    return this.tables(MODEL_FIELD.signatureDefs, (file, position) => new SignatureDef(file, position));
  }
}
