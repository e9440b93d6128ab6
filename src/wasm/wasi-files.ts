/**
 * Host directories a user grants a sandboxed program (`tflite-fn run --dir`), as WASI
 * preopens. The program reaches files only by paths relative to a granted directory; a path
 * that climbs out of it (`..`, an absolute path, a symlink pointing elsewhere) is refused, as
 * is any write into a directory granted read-only. Without grants there is no fd 3 at all and
 * every path call fails, so the program sees no filesystem.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import type { GuestMemory } from './guest-memory.js';

/** One `--dir` grant: the path the program sees and the host folder behind it. */
export interface DirectoryGrant {
  readonly guest: string;
  readonly host: string;
  readonly readOnly: boolean;
}

export const WASI_ERRNO = {
  SUCCESS: 0,
  ACCES: 2,
  BADF: 8,
  EXIST: 20,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  NOENT: 44,
  NOTDIR: 54,
  PERM: 63,
  ROFS: 69,
  NOTCAPABLE: 76,
} as const;

const FILETYPE = { DIRECTORY: 3, REGULAR_FILE: 4 } as const;
const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FDFLAGS_APPEND = 1;
const RIGHT_FD_WRITE = 1n << 6n;

class WasiError extends Error {
  constructor(readonly errno: number) {
    super(`wasi errno ${errno}`);
  }
}

interface OpenEntry {
  /** Real host path, always inside `root`. */
  readonly path: string;
  readonly root: string;
  readonly readOnly: boolean;
  readonly directory: boolean;
  /** Host descriptor of a file (directories are reopened by path as needed). */
  readonly hostFd?: number;
  /** The guest name of a preopened directory. */
  readonly preopen?: Uint8Array;
  position: number;
  readonly append: boolean;
}

function errnoOfNodeError(error: unknown): number {
  const code = (error as NodeJS.ErrnoException).code;
  const map: Record<string, number> = {
    ENOENT: WASI_ERRNO.NOENT,
    EEXIST: WASI_ERRNO.EXIST,
    EISDIR: WASI_ERRNO.ISDIR,
    ENOTDIR: WASI_ERRNO.NOTDIR,
    EACCES: WASI_ERRNO.ACCES,
    EPERM: WASI_ERRNO.PERM,
  };
  return (code === undefined ? undefined : map[code]) ?? WASI_ERRNO.IO;
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

export class GrantedFiles {
  readonly #entries = new Map<number, OpenEntry>();
  #nextFd = 3;

  constructor(grants: readonly DirectoryGrant[]) {
    for (const grant of grants) {
      const root = realpathSync(resolve(grant.host));
      this.#entries.set(this.#nextFd++, {
        path: root,
        root,
        readOnly: grant.readOnly,
        directory: true,
        preopen: new TextEncoder().encode(grant.guest),
        position: 0,
        append: false,
      });
    }
  }

  handles(fd: number): boolean {
    return this.#entries.has(fd);
  }

  /** Runs a WASI call body; host errors become WASI errnos, never exceptions. */
  call(body: () => void): number {
    try {
      body();
      return WASI_ERRNO.SUCCESS;
    } catch (error) {
      if (error instanceof WasiError) return error.errno;
      if ((error as NodeJS.ErrnoException).code) return errnoOfNodeError(error);
      throw error;
    }
  }

  #entry(fd: number): OpenEntry {
    const entry = this.#entries.get(fd);
    if (!entry) throw new WasiError(WASI_ERRNO.BADF);
    return entry;
  }

  prestatGet(memory: GuestMemory, fd: number, out: number): void {
    const name = this.#entry(fd).preopen;
    if (!name) throw new WasiError(WASI_ERRNO.BADF);
    memory.write(out, new Uint8Array(8)); // tag 0: a directory
    memory.writeU32(out + 4, name.length);
  }

  prestatDirName(memory: GuestMemory, fd: number, pointer: number, length: number): void {
    const name = this.#entry(fd).preopen;
    if (!name) throw new WasiError(WASI_ERRNO.BADF);
    memory.write(pointer, name.subarray(0, length));
  }

  /** The host path for a guest path relative to a directory fd, or a refusal. */
  #resolve(dirFd: number, guestPath: string, creating: boolean): { entry: OpenEntry; path: string } {
    const entry = this.#entry(dirFd);
    if (!entry.directory) throw new WasiError(WASI_ERRNO.NOTDIR);
    const normalized = posix.normalize(guestPath);
    if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../'))
      throw new WasiError(WASI_ERRNO.NOTCAPABLE);
    const wanted = join(entry.path, normalized);
    let real: string;
    try {
      real = realpathSync(wanted);
    } catch (error) {
      if (!creating || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // A file about to be created: its folder must resolve inside the grant.
      real = join(realpathSync(dirname(wanted)), relative(dirname(wanted), wanted));
    }
    if (!inside(entry.root, real)) throw new WasiError(WASI_ERRNO.NOTCAPABLE);
    return { entry, path: real };
  }

  pathOpen(
    memory: GuestMemory,
    dirFd: number,
    guestPath: string,
    oflags: number,
    rightsBase: bigint,
    fdflags: number,
    out: number,
  ): void {
    const creating = (oflags & OFLAGS.CREAT) !== 0;
    const { entry, path } = this.#resolve(dirFd, guestPath, creating);
    const writing = creating || (oflags & OFLAGS.TRUNC) !== 0 || (rightsBase & RIGHT_FD_WRITE) !== 0n;
    let stats: Stats | undefined;
    try {
      stats = statSync(path);
    } catch (error) {
      if (!creating) throw error;
    }
    const directory = stats?.isDirectory() ?? false;
    if ((oflags & OFLAGS.DIRECTORY) !== 0 && !directory) throw new WasiError(WASI_ERRNO.NOTDIR);
    // wasi-libc asks for write rights on directories it only reads; only files are refused.
    if (writing && entry.readOnly && !directory) throw new WasiError(WASI_ERRNO.ROFS);
    let hostFd: number | undefined;
    if (!directory) {
      let flags = writing ? constants.O_RDWR : constants.O_RDONLY;
      if (creating) flags |= constants.O_CREAT;
      if (oflags & OFLAGS.EXCL) flags |= constants.O_EXCL;
      if (oflags & OFLAGS.TRUNC) flags |= constants.O_TRUNC;
      flags |= constants.O_NOFOLLOW; // the realpath check above already followed the links
      hostFd = openSync(path, flags, 0o644);
    }
    const fd = this.#nextFd++;
    this.#entries.set(fd, {
      path,
      root: entry.root,
      readOnly: entry.readOnly,
      directory,
      ...(hostFd === undefined ? {} : { hostFd }),
      position: 0,
      append: (fdflags & FDFLAGS_APPEND) !== 0,
    });
    memory.writeU32(out, fd);
  }

  #file(fd: number): OpenEntry & { hostFd: number } {
    const entry = this.#entry(fd);
    if (entry.hostFd === undefined) throw new WasiError(WASI_ERRNO.ISDIR);
    return entry as OpenEntry & { hostFd: number };
  }

  read(fd: number, buffers: readonly Uint8Array[]): number {
    const entry = this.#file(fd);
    let total = 0;
    for (const buffer of buffers) {
      const got = readSync(entry.hostFd, buffer, 0, buffer.length, entry.position);
      entry.position += got;
      total += got;
      if (got < buffer.length) break;
    }
    return total;
  }

  write(fd: number, chunks: readonly Uint8Array[]): number {
    const entry = this.#file(fd);
    if (entry.readOnly) throw new WasiError(WASI_ERRNO.ROFS);
    let total = 0;
    for (const chunk of chunks) {
      if (entry.append) entry.position = fstatSync(entry.hostFd).size;
      const wrote = writeSync(entry.hostFd, chunk, 0, chunk.length, entry.position);
      entry.position += wrote;
      total += wrote;
    }
    return total;
  }

  seek(fd: number, offset: bigint, whence: number): bigint {
    const entry = this.#file(fd);
    const base =
      whence === 0
        ? 0
        : whence === 1
          ? entry.position
          : whence === 2
            ? fstatSync(entry.hostFd).size
            : Number.NaN;
    const position = base + Number(offset);
    if (!Number.isSafeInteger(position) || position < 0) throw new WasiError(WASI_ERRNO.INVAL);
    entry.position = position;
    return BigInt(position);
  }

  close(fd: number): void {
    const entry = this.#entry(fd);
    if (entry.preopen) throw new WasiError(WASI_ERRNO.NOTCAPABLE); // grants stay for the run
    if (entry.hostFd !== undefined) closeSync(entry.hostFd);
    this.#entries.delete(fd);
  }

  fdstat(memory: GuestMemory, fd: number, out: number): void {
    const entry = this.#entry(fd);
    const bytes = new Uint8Array(24);
    bytes[0] = entry.directory ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE;
    if (entry.append) bytes[2] = FDFLAGS_APPEND;
    bytes.fill(0xff, 8, 24); // rights are enforced here, on each call, not by the guest's libc
    memory.write(out, bytes);
  }

  #writeFilestat(memory: GuestMemory, out: number, stats: Stats): void {
    const bytes = new Uint8Array(64);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(stats.dev), true);
    view.setBigUint64(8, BigInt(stats.ino), true);
    bytes[16] = stats.isDirectory() ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE;
    view.setBigUint64(24, BigInt(stats.nlink), true);
    view.setBigUint64(32, BigInt(stats.size), true);
    view.setBigUint64(40, BigInt(Math.round(stats.atimeMs * 1e6)), true);
    view.setBigUint64(48, BigInt(Math.round(stats.mtimeMs * 1e6)), true);
    view.setBigUint64(56, BigInt(Math.round(stats.ctimeMs * 1e6)), true);
    memory.write(out, bytes);
  }

  filestat(memory: GuestMemory, fd: number, out: number): void {
    const entry = this.#entry(fd);
    this.#writeFilestat(
      memory,
      out,
      entry.hostFd === undefined ? statSync(entry.path) : fstatSync(entry.hostFd),
    );
  }

  pathFilestat(memory: GuestMemory, dirFd: number, guestPath: string, out: number): void {
    this.#writeFilestat(memory, out, statSync(this.#resolve(dirFd, guestPath, false).path));
  }

  /** Closes every host descriptor the run opened (called when the run ends, however it ends). */
  closeAll(): void {
    for (const entry of this.#entries.values()) if (entry.hostFd !== undefined) closeSync(entry.hostFd);
    this.#entries.clear();
  }
}

/** Parses `--dir` values the way WasmEdge does: `GUEST:HOST`, or one path for both; `:ro` at the end for read-only. */
export function parseDirectoryGrant(value: string): DirectoryGrant {
  let spec = value;
  let readOnly = false;
  if (spec.endsWith(':ro')) {
    readOnly = true;
    spec = spec.slice(0, -3);
  }
  const at = spec.indexOf(':');
  const guest = at < 0 ? spec : spec.slice(0, at);
  const host = at < 0 ? spec : spec.slice(at + 1);
  return { guest, host, readOnly };
}
