/**
 * Whether a folder can really be written: found by making it and writing (then removing) a small
 * file in it, once per folder per process. Asking access(W_OK) is not enough: it checks
 * permission bits, so root is told "writable" for folders nobody can write (under /proc or
 * /sys, on a full disk), and the failure would come later, from the first fetch, as a file-system
 * error instead of a fallback or a clear message.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Unwritable {
  /** Why, without host paths: safe in a message a client may see. */
  readonly reason: string;
  /** Why, for the local user (a line on stderr): may name a host path. */
  readonly detail: string;
}

/** What the errors a probe meets mean, said the way a user fixes them. */
const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'folders cannot be made there',
};

const verdicts = new Map<string, Unwritable | undefined>();

/**
 * Why `dir` cannot be made and written, or undefined when it can. Makes it (with its parents)
 * when missing, as using it would. The verdict is kept for the process: a cache folder is asked
 * for on every model load.
 */
export function whyUnwritable(dir: string): Unwritable | undefined {
  if (verdicts.has(dir)) return verdicts.get(dir);
  const verdict = probe(dir);
  verdicts.set(dir, verdict);
  return verdict;
}

function probe(dir: string): Unwritable | undefined {
  try {
    makeFolders(dir);
    // A unique name: other processes may probe the same folder at the same moment. One byte,
    // because on a full disk an empty file can still be made.
    const file = join(dir, `.tflite-fn-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, 'x', { flag: 'wx' });
    rmSync(file, { force: true });
    return undefined;
  } catch (error) {
    return explain(dir, error as NodeJS.ErrnoException);
  }
}

/**
 * mkdir -p, one level at a time. Node's own `recursive: true` never returns under /proc, where
 * making a folder fails with ENOENT: it makes the parent again and retries, forever.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Made meanwhile by another process: fine.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory()) throw error;
    }
  }
}

function explain(dir: string, error: NodeJS.ErrnoException): Unwritable {
  const code = error.code ?? '';
  const file = code === 'ENOTDIR' || code === 'EEXIST' ? fileOnPath(dir) : undefined;
  if (file) return { reason: 'a part of its path is a file', detail: `${file} is not a folder` };
  const known = REASONS[code];
  const text = known ? `${code}: ${known}` : code || error.message;
  return { reason: text, detail: text };
}

/** The first thing on the way up from `dir` that exists and is not a folder. */
function fileOnPath(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    try {
      if (existsSync(at) && !statSync(at).isDirectory()) return at;
    } catch {
      // Not reachable; keep going up.
    }
    if (dirname(at) === at) return undefined;
  }
}
