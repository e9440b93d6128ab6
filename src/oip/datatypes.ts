/**
 * The Open Inference Protocol's tensor data types: each one's element size, typed array, which
 * JSON values are elements of it and how an element is written back as JSON. A request's
 * tensor is read by its own datatype (any of the twelve fixed-size ones); BYTES (strings)
 * reaches no model here. Our engines hand in and out uint8, int32 and float32 only
 * (src/engine/types.ts; LiteRT.js refuses to compile a model with other input or output types),
 * so a model's metadata names one of UINT8, INT32 and FP32, and a tensor of another datatype
 * is refused as not the model's, as Triton does.
 *
 * JSON and 64-bit integers: a JSON number beyond 2^53 is not exact once parsed (JSON.parse
 * gives a double), so an INT64 or UINT64 element in a request's JSON must be a safe integer
 * (|v| <= 2^53 - 1); larger values travel exactly as binary data. In an answer they are
 * written digit for digit, as Triton does (a client whose parser keeps 64-bit integers reads
 * them exactly; asking for binary_data always does).
 */
import type { TensorData, TensorDType } from '../engine/types.js';

/** Every data type the protocol defines, with its element size in bytes (BYTES: variable). */
export const PROTOCOL_DATATYPES = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: undefined,
} as const;

export type ProtocolDatatype = keyof typeof PROTOCOL_DATATYPES;
/** The datatypes of fixed-size elements: every one but BYTES. */
export type FixedDatatype = Exclude<ProtocolDatatype, 'BYTES'>;

/** A tensor's elements in the typed array of its datatype (BOOL as 0/1 bytes, FP16 as its bits). */
export type ProtocolTensorData =
  | TensorData
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | BigUint64Array
  | BigInt64Array
  | Float64Array;

type Element = number | bigint;

interface Codec {
  readonly create: (length: number) => ProtocolTensorData;
  /** A view of aligned little-endian bytes as the datatype's elements. */
  readonly view: (buffer: ArrayBufferLike, byteOffset: number, length: number) => ProtocolTensorData;
  /** The element a JSON value stands for, or undefined when it is not one of this datatype. */
  readonly fromJson: (value: unknown) => Element | undefined;
  /** An element as JSON text. */
  readonly toJson: (element: Element) => string;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Integers within [min, max] (both exact doubles). */
const integer =
  (min: number, max: number) =>
  (value: unknown): number | undefined =>
    isNumber(value) && Number.isInteger(value) && value >= min && value <= max ? value : undefined;

/** 64-bit integers: only what JSON.parse read exactly (a safe integer), as a bigint. */
const integer64 =
  (min: number) =>
  (value: unknown): bigint | undefined =>
    isNumber(value) && Number.isSafeInteger(value) && value >= min ? BigInt(value) : undefined;

/** A finite number that stays finite in the type (a float32 past ±3.4e38 would be Infinity). */
const float =
  (round: (value: number) => number) =>
  (value: unknown): number | undefined =>
    isNumber(value) && Number.isFinite(round(value)) ? value : undefined;

/** A number as JSON: JSON.stringify's own spelling (NaN and ±Infinity, which JSON lacks, as null). */
const numberJson = (element: Element) =>
  typeof element === 'bigint' ? String(element) : Number.isFinite(element) ? String(element) : 'null';

/** An IEEE half-precision value from its 16 bits. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The 16 bits of the half-precision value nearest to a number (ties to even), ±Infinity past 65504. */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  // Subnormals are multiples of 2^-24 (each step here is exact: scaling by powers of two).
  if (magnitude < 2 ** -14) return sign | roundEven(magnitude / 2 ** -24);
  let exponent = Math.min(Math.floor(Math.log2(magnitude)), 16);
  // Math.log2 may be one off next to a power of two: bring the significand into [1, 2).
  if (magnitude / 2 ** exponent >= 2) exponent++;
  if (magnitude / 2 ** exponent < 1) exponent--;
  let fraction = roundEven((magnitude / 2 ** exponent - 1) * 1024);
  let biased = exponent + 15;
  if (fraction === 1024) {
    fraction = 0;
    biased++;
  }
  if (biased >= 31) return sign | 0x7c00;
  return sign | (biased << 10) | fraction;
}

function roundEven(value: number): number {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

const HALF_MAX = 65504;

const CODECS: Record<FixedDatatype, Codec> = {
  BOOL: {
    create: (n) => new Uint8Array(n),
    view: (b, o, n) => new Uint8Array(b, o, n),
    fromJson: (value) => (typeof value === 'boolean' ? Number(value) : undefined),
    toJson: (element) => (element ? 'true' : 'false'),
  },
  UINT8: {
    create: (n) => new Uint8Array(n),
    view: (b, o, n) => new Uint8Array(b, o, n),
    fromJson: integer(0, 255),
    toJson: numberJson,
  },
  UINT16: {
    create: (n) => new Uint16Array(n),
    view: (b, o, n) => new Uint16Array(b, o, n),
    fromJson: integer(0, 65535),
    toJson: numberJson,
  },
  UINT32: {
    create: (n) => new Uint32Array(n),
    view: (b, o, n) => new Uint32Array(b, o, n),
    fromJson: integer(0, 2 ** 32 - 1),
    toJson: numberJson,
  },
  UINT64: {
    create: (n) => new BigUint64Array(n),
    view: (b, o, n) => new BigUint64Array(b, o, n),
    fromJson: integer64(0),
    toJson: numberJson,
  },
  INT8: {
    create: (n) => new Int8Array(n),
    view: (b, o, n) => new Int8Array(b, o, n),
    fromJson: integer(-128, 127),
    toJson: numberJson,
  },
  INT16: {
    create: (n) => new Int16Array(n),
    view: (b, o, n) => new Int16Array(b, o, n),
    fromJson: integer(-32768, 32767),
    toJson: numberJson,
  },
  INT32: {
    create: (n) => new Int32Array(n),
    view: (b, o, n) => new Int32Array(b, o, n),
    fromJson: integer(-(2 ** 31), 2 ** 31 - 1),
    toJson: numberJson,
  },
  INT64: {
    create: (n) => new BigInt64Array(n),
    view: (b, o, n) => new BigInt64Array(b, o, n),
    fromJson: integer64(-Number.MAX_SAFE_INTEGER),
    toJson: numberJson,
  },
  FP16: {
    create: (n) => new Uint16Array(n),
    view: (b, o, n) => new Uint16Array(b, o, n),
    fromJson: (value) => (isNumber(value) && Math.abs(value) <= HALF_MAX ? numberToHalf(value) : undefined),
    toJson: (element) => numberJson(halfToNumber(Number(element))),
  },
  FP32: {
    create: (n) => new Float32Array(n),
    view: (b, o, n) => new Float32Array(b, o, n),
    fromJson: float(Math.fround),
    toJson: numberJson,
  },
  FP64: {
    create: (n) => new Float64Array(n),
    view: (b, o, n) => new Float64Array(b, o, n),
    fromJson: float((value) => value),
    toJson: numberJson,
  },
};

/** The protocol's name for each element type our engines have. */
const NAME_OF: Record<TensorDType, 'UINT8' | 'INT32' | 'FP32'> = {
  uint8: 'UINT8',
  int32: 'INT32',
  float32: 'FP32',
};

export function datatypeOf(dtype: TensorDType): FixedDatatype {
  return NAME_OF[dtype];
}

export function isProtocolDatatype(name: unknown): name is ProtocolDatatype {
  return typeof name === 'string' && Object.hasOwn(PROTOCOL_DATATYPES, name);
}

/** Bytes per element of a fixed-size datatype. */
export function datatypeBytes(datatype: FixedDatatype): number {
  return PROTOCOL_DATATYPES[datatype];
}

/** Bytes per element of an engine type. */
export function elementBytes(dtype: TensorDType): number {
  return PROTOCOL_DATATYPES[NAME_OF[dtype]];
}

/** The typed array for `count` elements of a datatype. */
export function allocate(datatype: FixedDatatype, count: number): ProtocolTensorData {
  return CODECS[datatype].create(count);
}

/** The element a JSON value stands for in a datatype, or undefined when it is not one. */
export function jsonElement(datatype: FixedDatatype, value: unknown): Element | undefined {
  return CODECS[datatype].fromJson(value);
}

/** Why a JSON value is not an element of the datatype, for a 400. */
export function notAnElement(datatype: FixedDatatype): string {
  if (datatype === 'BOOL') return 'BOOL elements are true or false';
  if (datatype === 'INT64' || datatype === 'UINT64')
    return `${datatype} elements in JSON are integers within ±(2^53 - 1), exact in JSON.parse; send larger ones as binary data`;
  if (datatype === 'FP16') return `FP16 elements are numbers within ±${HALF_MAX}`;
  if (datatype.startsWith('FP')) return `${datatype} elements are numbers within its range`;
  return `${datatype} elements are integers within its range`;
}

/** A tensor's elements as JSON text (an array), each written exactly as its datatype holds it. */
export function jsonElements(datatype: FixedDatatype, data: ProtocolTensorData): string {
  const write = CODECS[datatype].toJson;
  const parts = new Array<string>(data.length);
  for (let i = 0; i < data.length; i++) parts[i] = write(data[i] as Element);
  return `[${parts.join(',')}]`;
}

/**
 * Little-endian bytes (the binary extension's order) as a typed array of the datatype: a view
 * when the bytes are aligned (no copy for an image-sized UINT8 tensor), else a copy. Typed
 * arrays use the host's byte order; every platform Node runs on here is little-endian.
 */
export function fromLittleEndian(datatype: FixedDatatype, bytes: Uint8Array): ProtocolTensorData {
  const size = datatypeBytes(datatype);
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  return CODECS[datatype].view(buffer, byteOffset, byteLength / size);
}

/** A tensor's elements as little-endian bytes (a view, no copy). */
export function toLittleEndian(data: ProtocolTensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
