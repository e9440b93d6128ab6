/**
 * Reading a whole input (a file, stdin) with a byte limit that applies WHILE reading: a
 * device like /dev/zero, a named pipe or an endless stdin stops at the limit plus one byte
 * instead of growing the process to gigabytes, and a regular file that is too big is refused
 * from its size before a byte is read.
 */
import { open } from 'node:fs/promises';
import { BadRequestError, TooLargeError } from '../errors.js';

/** How many bytes an input may have, and the setting that changes it (said in the error). */
export interface InputLimit {
  readonly maxBytes: number;
  /** e.g. 'TFLITE_FN_MAX_BYTES'; absent for a fixed limit. */
  readonly setting?: string;
}

function tooLarge(limit: InputLimit): TooLargeError {
  const setting = limit.setting ? ` (${limit.setting})` : '';
  return new TooLargeError(
    'payload_too_large',
    `the input is larger than the limit of ${limit.maxBytes} bytes${setting}; reading stopped there`,
  );
}

/** Collects chunks until the end, or throws once one byte more than the limit has arrived. */
export async function readStreamCapped(
  chunks: AsyncIterable<Uint8Array | string>,
  limit: InputLimit,
): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += bytes.length;
    if (total > limit.maxBytes) throw tooLarge(limit);
    parts.push(bytes);
  }
  const whole = Buffer.concat(parts, total);
  return new Uint8Array(whole.buffer, whole.byteOffset, whole.length);
}

function unreadable(path: string, code: string | undefined, cause: unknown): BadRequestError {
  const reason =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (cause as Error).message;
  return new BadRequestError('unreadable_file', `cannot read ${path}: ${reason}`, { cause });
}

/**
 * Reads a file, refusing it from its size when that is known to be too big and stopping at
 * the limit when it is not (devices, pipes and /proc files report a size of 0).
 * Errors: 400 unreadable_file (missing, a folder, no permission), 413 payload_too_large.
 */
export async function readFileCapped(path: string, limit: InputLimit): Promise<Uint8Array> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (cause) {
    throw unreadable(path, (cause as NodeJS.ErrnoException).code, cause);
  }
  try {
    const stats = await file.stat();
    if (stats.isDirectory()) throw unreadable(path, 'EISDIR', undefined);
    if (stats.size > limit.maxBytes) throw tooLarge(limit);
    return await readStreamCapped(file.createReadStream({ autoClose: false }), limit);
  } finally {
    await file.close();
  }
}
