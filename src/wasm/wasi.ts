/**
 * The slice of WASI preview 1 a sandboxed program gets: arguments and environment given
 * explicitly, stdin from a buffer, stdout and stderr into capped buffers, clocks, random
 * bytes and exit. No files, sockets or host environment: calls for those fail with ENOSYS or
 * EBADF, so a program that tries (say, to open /etc/passwd) gets an error, not access.
 */
import { randomFillSync } from 'node:crypto';
import { GuestFault, type GuestMemory } from './guest-memory.js';

const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOSYS: 52, NOTCAPABLE: 76, SPIPE: 70 } as const;

/** Thrown by proc_exit to unwind the guest with its exit code. */
export class GuestExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface WasiOptions {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: Uint8Array;
  /** Bytes kept per output stream; the rest is dropped and `truncated` is set. */
  readonly outputCap: number;
}

export class CappedOutput {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  append(data: Uint8Array): void {
    const room = this.cap - this.#size;
    if (data.length > room) this.truncated = true;
    const kept = data.subarray(0, Math.max(0, room));
    if (kept.length > 0) {
      this.#chunks.push(kept.slice());
      this.#size += kept.length;
    }
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.#chunks);
  }
}

function encodeStrings(values: readonly string[]): Uint8Array[] {
  return values.map((value) => new TextEncoder().encode(`${value}\0`));
}

export function createWasi(options: WasiOptions, memory: () => GuestMemory) {
  const stdout = new CappedOutput(options.outputCap);
  const stderr = new CappedOutput(options.outputCap);
  let stdinOffset = 0;
  const args = encodeStrings(options.args);
  const env = encodeStrings(Object.entries(options.env).map(([k, v]) => `${k}=${v}`));

  /** Guest faults become EINVAL-like errors instead of host crashes. */
  const guard =
    <A extends (number | bigint)[]>(fn: (...a: A) => number) =>
    (...a: A): number => {
      try {
        return fn(...a);
      } catch (error) {
        if (error instanceof GuestFault) return ERRNO.INVAL;
        throw error;
      }
    };

  const writeList = (list: Uint8Array[], pointersPtr: number, dataPtr: number) => {
    const mem = memory();
    let offset = dataPtr;
    for (const [i, item] of list.entries()) {
      mem.writeU32(pointersPtr + 4 * i, offset);
      mem.write(offset, item);
      offset += item.length;
    }
    return ERRNO.SUCCESS;
  };
  const sizes = (list: Uint8Array[], countPtr: number, sizePtr: number) => {
    memory().writeU32(countPtr, list.length);
    memory().writeU32(
      sizePtr,
      list.reduce((sum, item) => sum + item.length, 0),
    );
    return ERRNO.SUCCESS;
  };

  const imports: Record<string, (...args: never[]) => number | bigint | undefined> = {
    args_get: guard((argv: number, buffer: number) => writeList(args, argv, buffer)),
    args_sizes_get: guard((count: number, size: number) => sizes(args, count, size)),
    environ_get: guard((environ: number, buffer: number) => writeList(env, environ, buffer)),
    environ_sizes_get: guard((count: number, size: number) => sizes(env, count, size)),
    fd_write: guard((fd: number, iovs: number, iovsLength: number, written: number) => {
      const target = fd === 1 ? stdout : fd === 2 ? stderr : undefined;
      if (!target) return ERRNO.BADF;
      const mem = memory();
      let total = 0;
      for (let i = 0; i < iovsLength; i++) {
        const pointer = mem.readU32(iovs + 8 * i);
        const length = mem.readU32(iovs + 8 * i + 4);
        target.append(mem.read(pointer, length));
        total += length;
      }
      mem.writeU32(written, total);
      return ERRNO.SUCCESS;
    }),
    fd_read: guard((fd: number, iovs: number, iovsLength: number, read: number) => {
      if (fd !== 0) return ERRNO.BADF;
      const mem = memory();
      let total = 0;
      for (let i = 0; i < iovsLength && stdinOffset < options.stdin.length; i++) {
        const pointer = mem.readU32(iovs + 8 * i);
        const length = mem.readU32(iovs + 8 * i + 4);
        const chunk = options.stdin.subarray(stdinOffset, stdinOffset + length);
        mem.write(pointer, chunk);
        stdinOffset += chunk.length;
        total += chunk.length;
      }
      mem.writeU32(read, total);
      return ERRNO.SUCCESS;
    }),
    fd_fdstat_get: guard((fd: number, stat: number) => {
      if (fd > 2) return ERRNO.BADF;
      // filetype CHARACTER_DEVICE (2), no flags, all rights: enough for stdio buffering logic.
      const bytes = new Uint8Array(24);
      bytes[0] = 2;
      bytes.fill(0xff, 8, 24);
      memory().write(stat, bytes);
      return ERRNO.SUCCESS;
    }),
    fd_close: (fd: number) => (fd <= 2 ? ERRNO.SUCCESS : ERRNO.BADF),
    fd_seek: (fd: number) => (fd <= 2 ? ERRNO.SPIPE : ERRNO.BADF),
    // No preopened directories: programs see no filesystem at all.
    fd_prestat_get: () => ERRNO.BADF,
    fd_prestat_dir_name: () => ERRNO.BADF,
    path_open: () => ERRNO.NOTCAPABLE,
    clock_time_get: guard((_id: number, _precision: bigint, time: number) => {
      memory().writeU64(time, process.hrtime.bigint());
      return ERRNO.SUCCESS;
    }),
    clock_res_get: guard((_id: number, resolution: number) => {
      memory().writeU64(resolution, 1000n);
      return ERRNO.SUCCESS;
    }),
    random_get: guard((pointer: number, length: number) => {
      memory().write(pointer, randomFillSync(new Uint8Array(length)));
      return ERRNO.SUCCESS;
    }),
    sched_yield: () => ERRNO.SUCCESS,
    proc_exit: (code: number) => {
      throw new GuestExit(code);
    },
  };

  /** Every other WASI function exists (so programs link) and answers ENOSYS. */
  const module = new Proxy(imports, {
    get: (target, name: string) => target[name] ?? (() => ERRNO.NOSYS),
  });
  return { module, stdout, stderr };
}
