/**
 * The Open Inference Protocol's tensor data types, and which of them our engines take. The
 * protocol names twelve fixed-size types and BYTES; a model here has uint8, int32 or float32
 * tensors (src/engine/types.ts), so those three are what a request may send, and a model's
 * metadata reports its tensors in the protocol's names.
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

/** The protocol's name for each element type our engines have. */
const NAME_OF: Record<TensorDType, 'UINT8' | 'INT32' | 'FP32'> = {
  uint8: 'UINT8',
  int32: 'INT32',
  float32: 'FP32',
};

export function datatypeOf(dtype: TensorDType): ProtocolDatatype {
  return NAME_OF[dtype];
}

export function isProtocolDatatype(name: unknown): name is ProtocolDatatype {
  return typeof name === 'string' && Object.hasOwn(PROTOCOL_DATATYPES, name);
}

/** Bytes per element of an engine type. */
export function elementBytes(dtype: TensorDType): number {
  return PROTOCOL_DATATYPES[NAME_OF[dtype]];
}

/** The typed array for `count` elements of an engine type. */
export function allocate(dtype: TensorDType, count: number): TensorData {
  if (dtype === 'float32') return new Float32Array(count);
  if (dtype === 'int32') return new Int32Array(count);
  return new Uint8Array(count);
}

/**
 * Little-endian bytes (the binary extension's order) as a typed array of the engine type: a
 * view when the bytes are aligned (no copy for an image-sized UINT8 tensor), else a copy.
 * Typed arrays use the host's byte order; every platform Node runs on here is little-endian.
 */
export function fromLittleEndian(dtype: TensorDType, bytes: Uint8Array): TensorData {
  if (dtype === 'uint8') return bytes;
  const size = elementBytes(dtype);
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  return dtype === 'float32'
    ? new Float32Array(buffer, byteOffset, byteLength / size)
    : new Int32Array(buffer, byteOffset, byteLength / size);
}

/** A tensor's elements as little-endian bytes (a view, no copy). */
export function toLittleEndian(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
