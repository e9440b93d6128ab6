/**
 * Hostile guests too small to need a compiler: WebAssembly modules written out byte by byte
 * (each is a handful of sections; the comments give the text format).
 */
import { uleb } from '../../src/wasm/wasm-reader.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function sleb(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const text = (value: string) => [...uleb(value.length), ...new TextEncoder().encode(value)];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const I32 = 0x7f;
const FUNCREF = 0x70;
const I64 = 0x7e;
const i32 = (value: number) => [0x41, ...sleb(value)];
/** Small values only: sleb() works on numbers. */
const i64 = (value: bigint) => [0x42, ...sleb(Number(value))];

interface Parts {
  /** Function types, as [params, results]. */
  readonly types: [number[], number[]][];
  /** Function imports: [module, name, type index]. */
  readonly imports?: [string, string, number][];
  /** Table section entries, already encoded. */
  readonly tables?: number[][];
  readonly memoryPages?: number;
  /** The body of _start (type 0, no locals), without its final `end`. */
  readonly start: number[];
  readonly elements?: number[];
}

/** A wasm32-wasi command: its memory and `_start` exported, `_start` the last function. */
function command(parts: Parts): Uint8Array {
  const imports = parts.imports ?? [];
  const startIndex = imports.length;
  const code = [0x00, ...parts.start, 0x0b];
  const bytes = [
    ...MAGIC,
    ...section(
      1,
      vector(
        parts.types.map(([params, results]) => [
          0x60,
          ...vector(params.map((p) => [p])),
          ...vector(results.map((r) => [r])),
        ]),
      ),
    ),
    ...(imports.length > 0
      ? section(
          2,
          vector(
            imports.map(([module, name, type]) => [...text(module), ...text(name), 0x00, ...uleb(type)]),
          ),
        )
      : []),
    ...section(3, vector([uleb(0)])),
    ...(parts.tables ? section(4, vector(parts.tables)) : []),
    ...section(5, vector([[0x00, ...uleb(parts.memoryPages ?? 1)]])),
    ...section(
      7,
      vector([
        [...text('memory'), 0x02, 0x00],
        [...text('_start'), 0x00, ...uleb(startIndex)],
      ]),
    ),
    ...(parts.elements ? section(9, parts.elements) : []),
    ...section(10, vector([[...uleb(code.length), ...code]])),
  ];
  return Uint8Array.from(bytes);
}

/**
 * (table 0 funcref) (func $_start (loop (br_if 0 (i32.ne (table.grow (ref.null func)
 * (i32.const 1000000)) (i32.const -1)))) unreachable): grows its table until refused, then
 * traps. Without a cap in the module, V8 grows it until the host process runs out of heap.
 */
export function tableGrower(): Uint8Array {
  return command({
    types: [[[], []]],
    tables: [[FUNCREF, 0x00, 0x00]],
    start: [
      0x03,
      0x40,
      0xd0,
      FUNCREF,
      ...i32(1_000_000),
      0xfc,
      0x0f,
      0x00,
      ...i32(-1),
      0x47,
      0x0d,
      0x00,
      0x0b,
      0x00,
    ],
  });
}

/** `count` tables of `entries` each (V8 accepts 10 million): instantiating them is the attack. */
export function hugeTables(count: number, entries: number): Uint8Array {
  return command({
    types: [[[], []]],
    tables: Array.from({ length: count }, () => [FUNCREF, 0x00, ...uleb(entries)]),
    start: [],
  });
}

/** A passive element segment of `entries` null references (an array on the host's heap). */
export function hugeElementSegment(entries: number): Uint8Array {
  const nulls = Array.from({ length: entries }, () => [0xd0, FUNCREF, 0x0b]);
  return command({
    types: [[[], []]],
    elements: vector([[0x05, FUNCREF, ...vector(nulls)]]),
    start: [],
  });
}

/**
 * (call $proc_exit (call $<module>.<name> ...args)): one host call with the given i32
 * arguments, its result (an errno) as the exit status.
 */
export function hostCall(
  module: string,
  name: string,
  args: (number | bigint)[],
  memoryPages = 1,
): Uint8Array {
  // A bigint is an i64 argument (the 0.2 ABI's handles), a number an i32.
  const params = args.map((arg) => (typeof arg === 'bigint' ? I64 : I32));
  return command({
    types: [
      [[], []],
      [params, [I32]],
      [[I32], []],
    ],
    imports: [
      [module, name, 1],
      ['wasi_snapshot_preview1', 'proc_exit', 2],
    ],
    memoryPages,
    start: [
      ...args.flatMap((arg) => (typeof arg === 'bigint' ? i64(arg) : i32(arg))),
      0x10,
      0x00,
      0x10,
      0x01,
    ],
  });
}

export function wasiCall(name: string, args: number[], memoryPages = 1): Uint8Array {
  return hostCall('wasi_snapshot_preview1', name, args, memoryPages);
}

/** (import "env" "table" (table 10000000 funcref)): the sandbox never provides one. */
export function tableImporter(): Uint8Array {
  const table = [...text('env'), ...text('table'), 0x01, FUNCREF, 0x00, ...uleb(10_000_000)];
  return Uint8Array.from([...MAGIC, ...section(2, vector([table]))]);
}

/** (i32.store8 (i32.const address) (i32.const byte)) for each byte. */
const storeBytes = (address: number, bytes: Uint8Array) =>
  [...bytes].flatMap((byte, i) => [...i32(address + i), ...i32(byte), 0x3a, 0x00, 0x00]);
/** (i32.store (i32.const address) (i32.const value)). */
const storeI32 = (address: number, value: number) => [...i32(address), ...i32(value), 0x36, 0x02, 0x00];

/**
 * A program whose memory is over 2 GiB that writes `message` to stdout from above 2 GiB:
 * the iovec, the bytes and the out-pointer all sit past 0x80000000, addresses JavaScript
 * receives as negative numbers. Exits with fd_write's errno.
 */
export function writeFromHighMemory(message: string): Uint8Array {
  const HIGH = 0x8000_0000;
  const bytes = new TextEncoder().encode(message);
  return command({
    types: [
      [[], []],
      [[I32, I32, I32, I32], [I32]],
      [[I32], []],
    ],
    imports: [
      ['wasi_snapshot_preview1', 'fd_write', 1],
      ['wasi_snapshot_preview1', 'proc_exit', 2],
    ],
    memoryPages: HIGH / 65536 + 1,
    start: [
      ...storeI32(HIGH | 0, (HIGH + 32) | 0),
      ...storeI32((HIGH + 4) | 0, bytes.length),
      ...storeBytes(HIGH + 32, bytes),
      ...[1, HIGH | 0, 1, (HIGH + 16) | 0].flatMap(i32),
      0x10,
      0x00,
      0x10,
      0x01,
    ],
  });
}
