/**
 * A bounds-checked reader for the one FlexBuffer shape TFLite custom operators use for their
 * options: a map from names to scalars (TFLite_Detection_PostProcess stores num_classes,
 * y_scale, use_regular_nms… that way).
 *
 * Only what that needs is read: a root map whose values are ints, uints, floats, bools or
 * strings (inline or indirect). Anything else (vectors, nested maps, blobs) is refused with
 * its type named, rather than guessed at. The bytes come from a model file, so every offset
 * and width is checked before it is followed.
 *
 * FlexBuffer layout facts used here (flexbuffers.h): the last byte is the root's byte width,
 * the one before it the root's packed type (type << 2 | log2 of the child width); a value
 * that is not inline is stored as an unsigned offset back from where it is stored; a map's
 * values are preceded by [keys vector offset, keys width, count] of its own width and followed
 * by one packed type byte per value; keys are NUL-terminated strings.
 */

/** FlexBuffer value types (flexbuffers::Type), the ones named in messages. */
const TYPE = {
  NULL: 0,
  INT: 1,
  UINT: 2,
  FLOAT: 3,
  KEY: 4,
  STRING: 5,
  INDIRECT_INT: 6,
  INDIRECT_UINT: 7,
  INDIRECT_FLOAT: 8,
  MAP: 9,
  VECTOR: 10,
  BLOB: 25,
  BOOL: 26,
} as const;

const TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(TYPE).map(([name, code]) => [code, name]),
);

function typeName(type: number): string {
  return TYPE_NAMES[type] ?? (type > TYPE.VECTOR && type < TYPE.BLOB ? 'typed VECTOR' : `type ${type}`);
}

/** Why a FlexBuffer was refused; the caller says whose options they were. */
export class FlexBufferError extends Error {}

export type FlexScalar = number | boolean | string;

class FlexReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(position: number, size: number): void {
    if (!Number.isInteger(position) || position < 0 || position + size > this.#bytes.length) {
      throw new FlexBufferError(`reads ${size} bytes at ${position} of ${this.#bytes.length}`);
    }
  }

  static width(width: number): number {
    if (width !== 1 && width !== 2 && width !== 4 && width !== 8) {
      throw new FlexBufferError(`has a ${width}-byte field; widths are 1, 2, 4 or 8`);
    }
    return width;
  }

  u8(position: number): number {
    this.#need(position, 1);
    return this.#bytes[position] as number;
  }

  uint(position: number, width: number): number {
    this.#need(position, width);
    if (width === 1) return this.#view.getUint8(position);
    if (width === 2) return this.#view.getUint16(position, true);
    if (width === 4) return this.#view.getUint32(position, true);
    return safe(this.#view.getBigUint64(position, true));
  }

  int(position: number, width: number): number {
    this.#need(position, width);
    if (width === 1) return this.#view.getInt8(position);
    if (width === 2) return this.#view.getInt16(position, true);
    if (width === 4) return this.#view.getInt32(position, true);
    return safe(this.#view.getBigInt64(position, true));
  }

  float(position: number, width: number): number {
    this.#need(position, width);
    if (width === 4) return this.#view.getFloat32(position, true);
    if (width === 8) return this.#view.getFloat64(position, true);
    throw new FlexBufferError(`has a ${width}-byte float; only 4- and 8-byte floats are read`);
  }

  /** Follows the offset stored at `position` (`width` bytes), which points backwards. */
  indirect(position: number, width: number): number {
    const target = position - this.uint(position, width);
    this.#need(target, 0);
    return target;
  }

  /** A NUL-terminated key starting at `position`. */
  key(position: number): string {
    this.#need(position, 1);
    const end = this.#bytes.indexOf(0, position);
    if (end < 0) throw new FlexBufferError(`has a key at ${position} with no terminating NUL`);
    return new TextDecoder().decode(this.#bytes.subarray(position, end));
  }

  /** A size-prefixed string whose bytes start at `position`. */
  string(position: number, width: number): string {
    const length = this.uint(position - width, width);
    this.#need(position, length);
    return new TextDecoder().decode(this.#bytes.subarray(position, position + length));
  }
}

function safe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new FlexBufferError(`holds ${value}, beyond the integers a number can hold`);
  }
  return Number(value);
}

/** The scalar stored at `position` of a parent `parentWidth` wide, with packed type `packed`. */
function readScalar(r: FlexReader, position: number, parentWidth: number, packed: number): FlexScalar {
  const type = packed >> 2;
  const width = 1 << (packed & 3);
  switch (type) {
    case TYPE.INT:
      return r.int(position, parentWidth);
    case TYPE.UINT:
      return r.uint(position, parentWidth);
    case TYPE.FLOAT:
      return r.float(position, parentWidth);
    case TYPE.BOOL:
      return r.uint(position, parentWidth) !== 0;
    case TYPE.INDIRECT_INT:
      return r.int(r.indirect(position, parentWidth), width);
    case TYPE.INDIRECT_UINT:
      return r.uint(r.indirect(position, parentWidth), width);
    case TYPE.INDIRECT_FLOAT:
      return r.float(r.indirect(position, parentWidth), width);
    case TYPE.STRING:
      return r.string(r.indirect(position, parentWidth), width);
    case TYPE.KEY:
      return r.key(r.indirect(position, parentWidth));
    default:
      throw new FlexBufferError(`holds a ${typeName(type)}; only ints, floats, bools and strings are read`);
  }
}

/**
 * Reads a FlexBuffer whose root is a map of scalars. Throws FlexBufferError on anything else,
 * on a read outside `bytes`, and on a key that appears twice.
 */
export function readFlexMap(bytes: Uint8Array): ReadonlyMap<string, FlexScalar> {
  const r = new FlexReader(bytes);
  if (bytes.length < 3) throw new FlexBufferError(`is ${bytes.length} bytes, too short for a FlexBuffer`);
  const rootWidth = FlexReader.width(r.u8(bytes.length - 1));
  const rootPacked = r.u8(bytes.length - 2);
  if (rootPacked >> 2 !== TYPE.MAP) {
    throw new FlexBufferError(`is a ${typeName(rootPacked >> 2)}, not a map`);
  }
  const width = FlexReader.width(1 << (rootPacked & 3));
  const values = r.indirect(bytes.length - 2 - rootWidth, rootWidth);
  const count = r.uint(values - width, width);
  const keys = r.indirect(values - 3 * width, width);
  const keyWidth = FlexReader.width(r.uint(values - 2 * width, width));
  if (r.uint(keys - keyWidth, keyWidth) !== count) {
    throw new FlexBufferError(`has a map of ${count} values whose keys vector has another length`);
  }
  // Checks the values, their packed types and keys fit before looping `count` times.
  r.u8(values + count * width + count - 1);
  r.u8(keys + count * keyWidth - 1);
  const out = new Map<string, FlexScalar>();
  for (let i = 0; i < count; i++) {
    const key = r.key(r.indirect(keys + i * keyWidth, keyWidth));
    if (out.has(key)) throw new FlexBufferError(`has the key '${key}' twice`);
    try {
      out.set(key, readScalar(r, values + i * width, width, r.u8(values + count * width + i)));
    } catch (cause) {
      if (!(cause instanceof FlexBufferError)) throw cause;
      throw new FlexBufferError(`'${key}' ${cause.message}`);
    }
  }
  return out;
}
