/**
 * Host directories a user grants a sandboxed program (`tflite-fn run --dir`), as WASI
 * preopens. The program reaches files only by paths relative to a granted directory; a path
 * that climbs out of it (`..`, an absolute path) or goes through any symlink is refused, as is
 * any write into a directory granted read-only. Without grants there is no fd 3 at all and
 * every path call fails, so the program sees no filesystem.
 *
 * Paths are never resolved by name from the root: each directory the program holds is an
 * open host descriptor, and a path is walked from it one component at a time, each opened
 * with O_NOFOLLOW relative to the descriptor before it (through /proc/self/fd, as openat
 * would). A concurrent writer who swaps a directory for a symlink therefore makes the open
 * fail; it can never redirect it outside the grant, which a check-then-open by name could not
 * promise.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { posix } from 'node:path';
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
  MFILE: 33,
  NOENT: 44,
  NOTDIR: 54,
  PERM: 63,
  ROFS: 69,
  NOTCAPABLE: 76,
} as const;

/** Descriptors a run may hold open at once: they come from the host process's own limit. */
export const MAX_OPEN_FILES = 128;

const FILETYPE = { DIRECTORY: 3, REGULAR_FILE: 4 } as const;
const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FDFLAGS_APPEND = 1;
const RIGHT_FD_WRITE = 1n << 6n;
/**
 * Every open refuses a symlink in its last component and never blocks: a FIFO would hold the
 * worker's thread in open() past any deadline (such files are then refused by type).
 */
const SAFE_OPEN = constants.O_NOFOLLOW | constants.O_NONBLOCK;

class WasiError extends Error {
  constructor(readonly errno: number) {
    super(`wasi errno ${errno}`);
  }
}

interface OpenEntry {
  /** Host descriptor of the file or directory (held for the entry's life). */
  readonly hostFd: number;
  readonly readOnly: boolean;
  readonly directory: boolean;
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
    ELOOP: WASI_ERRNO.NOTCAPABLE, // a symlink, refused by O_NOFOLLOW
    EMFILE: WASI_ERRNO.MFILE,
  };
  return (code === undefined ? undefined : map[code]) ?? WASI_ERRNO.IO;
}

/** Opens `name` (one component) inside the directory open as `dirFd`, as openat(2) would. */
function openAt(dirFd: number, name: string, flags: number): number {
  return openSync(`/proc/self/fd/${dirFd}/${name}`, flags | SAFE_OPEN, 0o644);
}

/** True where directories can be granted: the walk above needs Linux's /proc/self/fd. */
export function canGrantDirectories(): boolean {
  return existsSync('/proc/self/fd');
}

export class GrantedFiles {
  readonly #entries = new Map<number, OpenEntry>();
  #nextFd = 3;
  readonly #preopens: number;

  constructor(grants: readonly DirectoryGrant[]) {
    try {
      for (const grant of grants) {
        // The host path was checked and pinned to its real path by the owner (checkedGrants).
        const hostFd = openSync(grant.host, constants.O_RDONLY | constants.O_DIRECTORY);
        this.#entries.set(this.#nextFd++, {
          hostFd,
          readOnly: grant.readOnly,
          directory: true,
          preopen: new TextEncoder().encode(grant.guest),
          position: 0,
          append: false,
        });
      }
    } catch (error) {
      this.closeAll();
      throw error;
    }
    this.#preopens = grants.length;
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

  /**
   * Walks a guest path from a directory entry to the directory holding its last component:
   * returns that directory's descriptor (the caller closes it if it is not `entry.hostFd`)
   * and the last name ('.' for the directory itself).
   */
  #walk(dirFd: number, guestPath: string): { entry: OpenEntry; parentFd: number; name: string } {
    const entry = this.#entry(dirFd);
    if (!entry.directory) throw new WasiError(WASI_ERRNO.NOTDIR);
    // Lexical `..` is exact here, because no component may be a symlink.
    const normalized = posix.normalize(guestPath);
    if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../'))
      throw new WasiError(WASI_ERRNO.NOTCAPABLE);
    const names = normalized.split('/').filter((name) => name !== '' && name !== '.');
    const name = names.pop() ?? '.';
    let parentFd = entry.hostFd;
    try {
      for (const directory of names) {
        const next = openAt(parentFd, directory, constants.O_RDONLY | constants.O_DIRECTORY);
        if (parentFd !== entry.hostFd) closeSync(parentFd);
        parentFd = next;
      }
    } catch (error) {
      if (parentFd !== entry.hostFd) closeSync(parentFd);
      throw error;
    }
    return { entry, parentFd, name };
  }

  /** Opens a guest path; refuses anything but regular files and directories. */
  #open(dirFd: number, guestPath: string, flags: number): { entry: OpenEntry; hostFd: number; stats: Stats } {
    const { entry, parentFd, name } = this.#walk(dirFd, guestPath);
    let hostFd: number;
    try {
      try {
        hostFd = openAt(parentFd, name, flags);
      } catch (error) {
        // wasi-libc asks for write rights on directories it only reads: open those to read.
        if ((error as NodeJS.ErrnoException).code !== 'EISDIR') throw error;
        hostFd = openAt(parentFd, name, constants.O_RDONLY | constants.O_DIRECTORY);
      }
    } finally {
      if (parentFd !== entry.hostFd) closeSync(parentFd);
    }
    const stats = fstatSync(hostFd);
    if (!stats.isFile() && !stats.isDirectory()) {
      closeSync(hostFd);
      throw new WasiError(WASI_ERRNO.ACCES);
    }
    return { entry, hostFd, stats };
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
    if (this.#entries.size - this.#preopens >= MAX_OPEN_FILES) throw new WasiError(WASI_ERRNO.MFILE);
    memory.writeU32(out, 0); // checks the out-pointer before anything is opened
    const creating = (oflags & OFLAGS.CREAT) !== 0;
    const writing = creating || (oflags & OFLAGS.TRUNC) !== 0 || (rightsBase & RIGHT_FD_WRITE) !== 0n;
    const readOnly = this.#entry(dirFd).readOnly;
    if (readOnly && (creating || (oflags & OFLAGS.TRUNC) !== 0)) throw new WasiError(WASI_ERRNO.ROFS);
    let flags = writing && !readOnly ? constants.O_RDWR : constants.O_RDONLY;
    if (oflags & OFLAGS.DIRECTORY) flags |= constants.O_DIRECTORY;
    if (creating) flags |= constants.O_CREAT;
    if (oflags & OFLAGS.EXCL) flags |= constants.O_EXCL;
    if (oflags & OFLAGS.TRUNC) flags |= constants.O_TRUNC;
    const { entry, hostFd, stats } = this.#open(dirFd, guestPath, flags);
    const directory = stats.isDirectory();
    // In a read-only grant files open read-only; asking to write one is refused. (wasi-libc
    // asks write rights on directories it only reads, so those are let through.)
    if (writing && entry.readOnly && !directory) {
      closeSync(hostFd);
      throw new WasiError(WASI_ERRNO.ROFS);
    }
    const fd = this.#nextFd++;
    this.#entries.set(fd, {
      hostFd,
      readOnly: entry.readOnly,
      directory,
      position: 0,
      append: (fdflags & FDFLAGS_APPEND) !== 0,
    });
    memory.writeU32(out, fd);
  }

  #file(fd: number): OpenEntry {
    const entry = this.#entry(fd);
    if (entry.directory) throw new WasiError(WASI_ERRNO.ISDIR);
    return entry;
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
    closeSync(entry.hostFd);
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
    this.#writeFilestat(memory, out, fstatSync(entry.hostFd));
  }

  pathFilestat(memory: GuestMemory, dirFd: number, guestPath: string, out: number): void {
    const { hostFd, stats } = this.#open(dirFd, guestPath, constants.O_RDONLY);
    closeSync(hostFd);
    this.#writeFilestat(memory, out, stats);
  }

  /** Closes every host descriptor the run opened (called when the run ends, however it ends). */
  closeAll(): void {
    for (const entry of this.#entries.values()) closeSync(entry.hostFd);
    this.#entries.clear();
  }
}
