/**
 * The slice of WASI preview 1 a sandboxed program gets: arguments and environment given
 * explicitly, stdin from a buffer, stdout and stderr into capped buffers, clocks, random
 * bytes and exit, and files only inside directories the user granted (wasi-files.ts). No
 * sockets or host environment: calls for those fail with ENOSYS or EBADF, so a program that
 * tries (say, to open /etc/passwd) gets an error, not access.
 */
import { GuestFault, type GuestMemory } from './guest-memory.js';
import type { GrantedFiles } from './wasi-files.js';

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

/**
 * One buffer that doubles up to the cap: a program writing a byte at a time costs no more
 * host memory than one writing it all at once.
 */
export class CappedOutput {
  #buffer = new Uint8Array(0);
  #size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  append(data: Uint8Array): void {
    const room = this.cap - this.#size;
    if (data.length > room) this.truncated = true;
    const kept = data.subarray(0, Math.max(0, room));
    if (kept.length === 0) return;
    if (this.#size + kept.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.min(this.cap, Math.max(4096, 2 * (this.#size + kept.length))));
      grown.set(this.#buffer.subarray(0, this.#size));
      this.#buffer = grown;
    }
    this.#buffer.set(kept, this.#size);
    this.#size += kept.length;
  }

  bytes(): Uint8Array {
    return this.#buffer.slice(0, this.#size);
  }
}

function encodeStrings(values: readonly string[]): Uint8Array[] {
  return values.map((value) => new TextEncoder().encode(`${value}\0`));
}

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the WASI import table, one short entry per syscall, all sharing this closure's stdin offset and capped outputs; split, that state would be threaded through every entry
export function createWasi(options: WasiOptions, files: GrantedFiles, memory: () => GuestMemory) {
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
      const mem = memory();
      if (files.handles(fd))
        return files.call(() => mem.writeU32(written, files.write(fd, mem.iovecs(iovs, iovsLength))));
      const target = fd === 1 ? stdout : fd === 2 ? stderr : undefined;
      if (!target) return ERRNO.BADF;
      let total = 0;
      for (const chunk of mem.iovecs(iovs, iovsLength)) {
        target.append(chunk);
        total += chunk.length;
      }
      mem.writeU32(written, total);
      return ERRNO.SUCCESS;
    }),
    fd_read: guard((fd: number, iovs: number, iovsLength: number, read: number) => {
      const mem = memory();
      if (files.handles(fd))
        return files.call(() => mem.writeU32(read, files.read(fd, mem.iovecs(iovs, iovsLength))));
      if (fd !== 0) return ERRNO.BADF;
      let total = 0;
      for (const buffer of mem.iovecs(iovs, iovsLength)) {
        if (stdinOffset >= options.stdin.length) break;
        const chunk = options.stdin.subarray(stdinOffset, stdinOffset + buffer.length);
        buffer.set(chunk);
        stdinOffset += chunk.length;
        total += chunk.length;
      }
      mem.writeU32(read, total);
      return ERRNO.SUCCESS;
    }),
    fd_fdstat_get: guard((fd: number, stat: number) => {
      if (files.handles(fd)) return files.call(() => files.fdstat(memory(), fd, stat));
      if (fd > 2) return ERRNO.BADF;
      // filetype CHARACTER_DEVICE (2), no flags, all rights: enough for stdio buffering logic.
      const bytes = new Uint8Array(24);
      bytes[0] = 2;
      bytes.fill(0xff, 8, 24);
      memory().write(stat, bytes);
      return ERRNO.SUCCESS;
    }),
    fd_filestat_get: guard((fd: number, out: number) =>
      files.handles(fd) ? files.call(() => files.filestat(memory(), fd, out)) : ERRNO.BADF,
    ),
    fd_close: (fd: number) =>
      files.handles(fd) ? files.call(() => files.close(fd)) : fd <= 2 ? ERRNO.SUCCESS : ERRNO.BADF,
    fd_seek: guard((fd: number, offset: bigint, whence: number, out: number) => {
      if (!files.handles(fd)) return fd <= 2 ? ERRNO.SPIPE : ERRNO.BADF;
      return files.call(() => memory().writeU64(out, files.seek(fd, offset, whence)));
    }),
    fd_tell: guard((fd: number, out: number) => {
      if (!files.handles(fd)) return fd <= 2 ? ERRNO.SPIPE : ERRNO.BADF;
      return files.call(() => memory().writeU64(out, files.seek(fd, 0n, 1)));
    }),
    // Granted directories are preopened from fd 3 on; with none, fd 3 is EBADF and libc
    // knows there is no filesystem.
    fd_prestat_get: guard((fd: number, out: number) => files.call(() => files.prestatGet(memory(), fd, out))),
    fd_prestat_dir_name: guard((fd: number, pointer: number, length: number) =>
      files.call(() => files.prestatDirName(memory(), fd, pointer, length)),
    ),
    path_open: guard(
      (
        dirFd: number,
        _lookupFlags: number,
        path: number,
        pathLength: number,
        oflags: number,
        rightsBase: bigint,
        _rightsInheriting: bigint,
        fdflags: number,
        out: number,
      ) => {
        const mem = memory();
        const guestPath = mem.readString(path, pathLength);
        return files.call(() => files.pathOpen(mem, dirFd, guestPath, oflags, rightsBase, fdflags, out));
      },
    ),
    path_filestat_get: guard(
      (dirFd: number, _flags: number, path: number, pathLength: number, out: number) => {
        const mem = memory();
        const guestPath = mem.readString(path, pathLength);
        return files.call(() => files.pathFilestat(mem, dirFd, guestPath, out));
      },
    ),
    clock_time_get: guard((_id: number, _precision: bigint, time: number) => {
      memory().writeU64(time, process.hrtime.bigint());
      return ERRNO.SUCCESS;
    }),
    clock_res_get: guard((_id: number, resolution: number) => {
      memory().writeU64(resolution, 1000n);
      return ERRNO.SUCCESS;
    }),
    random_get: guard((pointer: number, length: number) => {
      memory().fillRandom(pointer, length);
      return ERRNO.SUCCESS;
    }),
    sched_yield: () => ERRNO.SUCCESS,
    proc_exit: (code: number) => {
      // Arguments arrive unsigned (link.ts); the status is an int, as WasmEdge's
      // static_cast<int> of the u32, so exit(-1) stays -1 (255 to a shell).
      throw new GuestExit(code | 0);
    },
  };

  /** Every other WASI function exists (so programs link) and answers ENOSYS. */
  const module = new Proxy(imports, {
    get: (target, name: string) => target[name] ?? (() => ERRNO.NOSYS),
  });
  return { module, stdout, stderr };
}
