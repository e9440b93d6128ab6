/**
 * Bounds-checked reading of a WebAssembly module's binary format, for module-limits.ts: every
 * read fails with a ModuleRefused-style error at the end of its section instead of running
 * past it, and LEB128 numbers longer than their type allows are refused.
 */
/** A module the sandbox will not run, and why (its message is for the user). */
export class ModuleRefused extends Error {}

export interface Section {
  readonly id: number;
  /** Where the section's id byte is. */
  readonly headerStart: number;
  /** Its body, after the id and the size. */
  readonly start: number;
  readonly end: number;
}

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
  return out;
}

const OPCODE = {
  END: 0x0b,
  GLOBAL_GET: 0x23,
  I32_CONST: 0x41,
  I64_CONST: 0x42,
  F32_CONST: 0x43,
  F64_CONST: 0x44,
  REF_NULL: 0xd0,
  REF_FUNC: 0xd2,
} as const;
/** i32/i64 add, sub, mul (extended constant expressions): no immediates. */
const ARITHMETIC = new Set([0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e]);

export class ModuleReader {
  #at: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.#at = start;
  }

  /** A reader over one section's body. */
  within(start: number, end: number): ModuleReader {
    return new ModuleReader(this.bytes, start, end);
  }

  byte(): number {
    if (this.#at >= this.end) throw new ModuleRefused('the module ends in the middle of a section');
    return this.bytes[this.#at++] as number;
  }

  #leb(maxBytes: number): number {
    let value = 0;
    for (let i = 0; i < maxBytes; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return value;
    }
    throw new ModuleRefused('a number in the module is too long');
  }

  u32(): number {
    const value = this.#leb(5);
    if (value > 0xffffffff) throw new ModuleRefused('a number in the module is out of range');
    return value;
  }

  skip(length: number): void {
    if (length > this.end - this.#at) throw new ModuleRefused('the module ends in the middle of a section');
    this.#at += length;
  }

  name(): void {
    this.skip(this.u32());
  }

  valueType(): void {
    const type = this.byte();
    // GC-style reference types (ref null? heap type) carry a heap type after them.
    if (type === 0x63 || type === 0x64) this.#leb(5);
  }

  constantExpression(): void {
    for (;;) {
      const opcode = this.byte();
      if (opcode === OPCODE.END) return;
      if (opcode === OPCODE.I32_CONST || opcode === OPCODE.GLOBAL_GET || opcode === OPCODE.REF_FUNC)
        this.#leb(5);
      else if (opcode === OPCODE.I64_CONST) this.#leb(10);
      else if (opcode === OPCODE.F32_CONST) this.skip(4);
      else if (opcode === OPCODE.F64_CONST) this.skip(8);
      else if (opcode === OPCODE.REF_NULL) this.byte();
      else if (!ARITHMETIC.has(opcode))
        throw new ModuleRefused(`opcode 0x${opcode.toString(16)} in a constant expression`);
    }
  }

  /** The sections of a whole module, after checking its header. */
  *sections(): Generator<Section> {
    const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    for (const expected of magic)
      if (this.byte() !== expected) throw new ModuleRefused('not a WebAssembly module (version 1)');
    while (this.#at < this.end) {
      const headerStart = this.#at;
      const id = this.byte();
      const size = this.u32();
      const start = this.#at;
      this.skip(size);
      yield { id, headerStart, start, end: this.#at };
    }
  }
}
