/**
 * Bounds-checked reads of a FlatBuffer, by position.
 *
 * A .tflite file is untrusted input: the `flatbuffers` runtime reads zeros past the end of a
 * buffer instead of failing, and LiteRT.js does not verify the file at all, so every read of
 * ours checks its bounds and throws OutOfBoundsError when it would leave the file. Callers
 * name the model (see withModelErrors in ./read.ts).
 *
 * FlatBuffer layout facts used here: the root table's uoffset is at byte 0; a table starts
 * with an int32 soffset back to its vtable (vtable = table - soffset); a vtable is
 * [u16 vtable size, u16 table size, u16 field offsets...]; field `id` sits at vtable entry
 * 4 + 2 * id, 0 meaning absent; uoffsets (to tables, vectors, strings) are relative to where
 * they are stored and point forward; a vector or string is a u32 count followed by its items.
 */

/** Thrown on any read that leaves the file; the caller adds which model it was. */
export class OutOfBoundsError extends RangeError {}

/** Where in a vtable the offset of field `id` is stored. */
export function vtableEntry(id: number): number {
  return 4 + 2 * id;
}

export interface VectorSpan {
  /** Position of the first element. */
  readonly start: number;
  readonly count: number;
}

export class FlatFile {
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  need(position: number, size: number): void {
    if (!Number.isInteger(position) || position < 0 || size < 0 || position + size > this.length) {
      throw new OutOfBoundsError(`reads ${size} bytes at ${position} of a ${this.length}-byte file`);
    }
  }

  i8(position: number): number {
    this.need(position, 1);
    return this.#view.getInt8(position);
  }

  u8(position: number): number {
    this.need(position, 1);
    return this.#view.getUint8(position);
  }

  u16(position: number): number {
    this.need(position, 2);
    return this.#view.getUint16(position, true);
  }

  i32(position: number): number {
    this.need(position, 4);
    return this.#view.getInt32(position, true);
  }

  u32(position: number): number {
    this.need(position, 4);
    return this.#view.getUint32(position, true);
  }

  f32(position: number): number {
    this.need(position, 4);
    return this.#view.getFloat32(position, true);
  }

  u64(position: number): bigint {
    this.need(position, 8);
    return this.#view.getBigUint64(position, true);
  }

  i64(position: number): bigint {
    this.need(position, 8);
    return this.#view.getBigInt64(position, true);
  }

  /** The position the uoffset stored at `position` points to (at least 4 bytes must follow). */
  deref(position: number): number {
    const target = position + this.u32(position);
    this.need(target, 4);
    return target;
  }

  /** Checks that a table's vtable lies inside the file; returns the vtable's position. */
  vtableOf(table: number): number {
    const vtable = table - this.i32(table);
    const size = this.u16(vtable);
    if (size < 4 || size % 2 !== 0) {
      throw new OutOfBoundsError(`the table at ${table} has a ${size}-byte vtable`);
    }
    this.need(vtable, size);
    return vtable;
  }

  /** Position of field `id` of the table at `table`, or undefined when the field is absent. */
  field(table: number, id: number): number | undefined {
    const vtable = this.vtableOf(table);
    return this.fieldIn(table, vtable, this.u16(vtable), id);
  }

  /** `field` for a table whose vtable (and its size) the caller has already checked. */
  fieldIn(table: number, vtable: number, vtableSize: number, id: number): number | undefined {
    const entry = vtableEntry(id);
    if (entry + 2 > vtableSize) return undefined;
    const offset = this.u16(vtable + entry);
    return offset === 0 ? undefined : table + offset;
  }

  /** The vector a uoffset field points to, its elements checked to lie inside the file. */
  vector(table: number, id: number, elementSize: number): VectorSpan | undefined {
    const at = this.field(table, id);
    return at === undefined ? undefined : this.vectorAt(at, elementSize);
  }

  /** The vector the uoffset stored at `position` points to. */
  vectorAt(position: number, elementSize: number): VectorSpan {
    const at = this.deref(position);
    const count = this.u32(at);
    this.need(at + 4, count * elementSize);
    return { start: at + 4, count };
  }

  /** The int32 elements of a checked vector (no per-element checks: vectorAt checked them all). */
  int32s(span: VectorSpan): number[] {
    const out = new Array<number>(span.count);
    for (let i = 0; i < span.count; i++) out[i] = this.#view.getInt32(span.start + 4 * i, true);
    return out;
  }

  float32s(span: VectorSpan): number[] {
    const out = new Array<number>(span.count);
    for (let i = 0; i < span.count; i++) out[i] = this.#view.getFloat32(span.start + 4 * i, true);
    return out;
  }

  /** int64 elements as numbers (exact within 2^53: zero points and the like), without BigInt. */
  int64s(span: VectorSpan): number[] {
    const out = new Array<number>(span.count);
    for (let i = 0; i < span.count; i++) {
      const at = span.start + 8 * i;
      out[i] = this.#view.getInt32(at + 4, true) * 2 ** 32 + this.#view.getUint32(at, true);
    }
    return out;
  }

  /** Positions of the tables in a vector of tables (field `id` of `table`); empty when absent. */
  tables(table: number, id: number): number[] {
    const span = this.vector(table, id, 4);
    const out: number[] = [];
    for (let i = 0; i < (span?.count ?? 0); i++) {
      const target = this.deref((span?.start ?? 0) + 4 * i);
      this.vtableOf(target);
      out.push(target);
    }
    return out;
  }

  /** Position of the root table. */
  root(): number {
    const root = this.deref(0);
    this.vtableOf(root);
    return root;
  }
}
