/**
 * Bounds-checked access to a guest's linear memory. Every pointer and length a guest hands to
 * a host function goes through here: a bad one is a GuestFault (reported to the guest as an
 * error code, and on its stderr), never a read or write outside the guest's memory. Sizes are
 * checked before anything is allocated for them, so a guest cannot make the host allocate more
 * than it could itself hold, and strings and vectors have their own, much smaller caps.
 */
import { randomFillSync } from 'node:crypto';

export class GuestFault extends Error {}

/** PATH_MAX on Linux; also far longer than any tensor name. */
export const MAX_STRING_BYTES = 4096;
/** IOV_MAX on Linux: the most buffers one read or write call takes. */
export const MAX_IOVECS = 1024;

/**
 * Pointers and lengths arrive unsigned (link.ts reads every i32 argument so); an address the
 * host computes from one (`pointer + 4`) may pass 2^32, which wasm would refuse, so it is
 * refused here instead of wrapping around to the start of memory.
 */
function unsigned(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffff_ffff)
    throw new GuestFault(`${value} is not a 32-bit address or length`);
  return value;
}

export class GuestMemory {
  readonly #memory: WebAssembly.Memory;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
  }

  /** The checked range; views are re-made on each call: memory.grow() detaches the old buffer. */
  #check(pointer: number, length: number): { bytes: Uint8Array; start: number; end: number } {
    const bytes = new Uint8Array(this.#memory.buffer);
    const start = unsigned(pointer);
    const end = start + unsigned(length);
    if (end > bytes.length) {
      throw new GuestFault(
        `pointer ${start} with length ${end - start} is outside the guest's ${bytes.length}-byte memory`,
      );
    }
    return { bytes, start, end };
  }

  /** A copy of guest bytes (the host keeps nothing that aliases guest memory). */
  read(pointer: number, length: number): Uint8Array {
    const { bytes, start, end } = this.#check(pointer, length);
    return bytes.slice(start, end);
  }

  /**
   * A view of guest bytes without copying, for reading or filling at once and never keeping:
   * it aliases guest memory.
   */
  view(pointer: number, length: number): Uint8Array {
    const { bytes, start, end } = this.#check(pointer, length);
    return bytes.subarray(start, end);
  }

  /** A string the guest passes (a path, a tensor name), refused past MAX_STRING_BYTES. */
  readString(pointer: number, length: number): string {
    if (unsigned(length) > MAX_STRING_BYTES)
      throw new GuestFault(`a ${unsigned(length)}-byte string; the limit is ${MAX_STRING_BYTES}`);
    return new TextDecoder().decode(this.view(pointer, length));
  }

  /** The guest's iovec array (pointer, length pairs) as views of its memory, each checked. */
  iovecs(pointer: number, count: number): Uint8Array[] {
    if (unsigned(count) > MAX_IOVECS)
      throw new GuestFault(`${unsigned(count)} buffers in one call; the limit is ${MAX_IOVECS}`);
    const table = this.read(pointer, 8 * unsigned(count));
    const fields = new DataView(table.buffer);
    const views: Uint8Array[] = [];
    for (let at = 0; at < table.length; at += 8)
      views.push(this.view(fields.getUint32(at, true), fields.getUint32(at + 4, true)));
    return views;
  }

  /** Random bytes straight into guest memory: nothing the size of the request is allocated. */
  fillRandom(pointer: number, length: number): void {
    const view = this.view(pointer, length);
    const chunk = 1 << 30; // randomFillSync takes at most 2 GB - 1 per call
    for (let at = 0; at < view.length; at += chunk)
      randomFillSync(view, at, Math.min(chunk, view.length - at));
  }

  write(pointer: number, data: Uint8Array): void {
    const { bytes, start } = this.#check(pointer, data.length);
    bytes.set(data, start);
  }

  writeU32(pointer: number, value: number): void {
    const { start } = this.#check(pointer, 4);
    new DataView(this.#memory.buffer).setUint32(start, value, true);
  }

  writeU64(pointer: number, value: bigint): void {
    const { start } = this.#check(pointer, 8);
    new DataView(this.#memory.buffer).setBigUint64(start, value, true);
  }

  readU32(pointer: number): number {
    const { start } = this.#check(pointer, 4);
    return new DataView(this.#memory.buffer).getUint32(start, true);
  }
}
