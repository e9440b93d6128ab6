/**
 * Bounds-checked access to a guest's linear memory. Every pointer and length a guest hands to
 * a host function goes through here: a bad one is a GuestFault (reported to the guest as an
 * error code, and on its stderr), never a read or write outside the guest's memory.
 */
export class GuestFault extends Error {}

export class GuestMemory {
  readonly #memory: WebAssembly.Memory;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
  }

  /** Views are re-made on each call: memory.grow() detaches the old buffer. */
  #check(pointer: number, length: number): Uint8Array {
    const bytes = new Uint8Array(this.#memory.buffer);
    if (
      !Number.isInteger(pointer) ||
      !Number.isInteger(length) ||
      pointer < 0 ||
      length < 0 ||
      pointer + length > bytes.length
    ) {
      throw new GuestFault(
        `pointer ${pointer} with length ${length} is outside the guest's ${bytes.length}-byte memory`,
      );
    }
    return bytes;
  }

  /** A copy of guest bytes (the host keeps nothing that aliases guest memory). */
  read(pointer: number, length: number): Uint8Array {
    return this.#check(pointer, length).slice(pointer, pointer + length);
  }

  /**
   * A view of guest bytes without copying, for reading at once (hashing) and never keeping:
   * it aliases guest memory.
   */
  view(pointer: number, length: number): Uint8Array {
    return this.#check(pointer, length).subarray(pointer, pointer + length);
  }

  readString(pointer: number, length: number): string {
    return new TextDecoder().decode(this.read(pointer, length));
  }

  write(pointer: number, data: Uint8Array): void {
    this.#check(pointer, data.length).set(data, pointer);
  }

  writeU32(pointer: number, value: number): void {
    this.#check(pointer, 4);
    new DataView(this.#memory.buffer).setUint32(pointer, value, true);
  }

  writeU64(pointer: number, value: bigint): void {
    this.#check(pointer, 8);
    new DataView(this.#memory.buffer).setBigUint64(pointer, value, true);
  }

  readU32(pointer: number): number {
    this.#check(pointer, 4);
    return new DataView(this.#memory.buffer).getUint32(pointer, true);
  }
}
