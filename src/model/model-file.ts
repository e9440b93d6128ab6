/**
 * Reading a model's files (the model, its labels) with the checks every loader needs: a clear
 * message naming the model and the fix when a file is missing, the pinned sha256 checked (so a
 * truncated download is refused instead of computing with missing weights), and a size limit
 * applied while reading.
 *
 * Messages name the model id and the file's name, never its host path: they reach HTTP
 * clients. The full path travels in `cause` (as `path`, like Node's own file errors), where the
 * CLI, which runs for the local user, finds it (see hostPathOf).
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { MAX_MODEL_BYTES } from '../config/index.js';
import { ModelLoadError, TfliteFnError } from '../errors.js';
import { type InputLimit, readFileCapped } from '../util/read-capped.js';

export interface ModelFileRef {
  readonly path: string;
  /** 'model file', 'labels file': how messages name it. */
  readonly what: string;
  /** The model id, for messages. */
  readonly id: string;
  readonly sha256?: string | undefined;
  /** How to get the file back: set-up, or reinstalling the npm package that ships it. */
  readonly fix: string;
}

export const SETUP_FIX = 'Fix: npx tflite-fn setup (fetches and verifies the built-in models)';
export const NPM_FIX = 'Fix: npm install (it ships in an npm package) or npx tflite-fn setup';

/** The largest model (or labels) file read, TFLITE_FN_MAX_MODEL_BYTES (512 MiB unless set: src/config/variables.ts). */
export function modelFileLimit(): InputLimit {
  return { maxBytes: MAX_MODEL_BYTES.value(), setting: MAX_MODEL_BYTES.name };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An error that carries a host path for local display only. */
export function withHostPath(message: string, path: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { path });
}

/** The host path an error (or its causes) was about, for the CLI's messages; never sent to clients. */
export function hostPathOf(error: unknown): string | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    const path = (at as { path?: unknown }).path;
    if (typeof path === 'string') return path;
  }
  return undefined;
}

export async function readModelFile(ref: ModelFileRef): Promise<Uint8Array> {
  const name = basename(ref.path);
  const limit = modelFileLimit();
  let bytes: Uint8Array;
  try {
    bytes = await readFileCapped(ref.path, limit);
  } catch (error) {
    const code = (error instanceof TfliteFnError ? error.cause : error) as NodeJS.ErrnoException | undefined;
    const reason =
      error instanceof TfliteFnError && error.status === 413
        ? `is larger than ${limit.maxBytes} bytes (${limit.setting})`
        : code?.code === 'ENOENT'
          ? 'is missing'
          : 'cannot be read';
    throw new ModelLoadError(`the ${ref.what} of model '${ref.id}' ${reason}: ${name}. ${ref.fix}`, {
      cause: withHostPath(`${ref.what} ${reason}`, ref.path, error),
    });
  }
  if (ref.sha256) {
    const actual = sha256Hex(bytes);
    if (actual !== ref.sha256) {
      throw new ModelLoadError(
        `the ${ref.what} of model '${ref.id}' is corrupt: ${name} has sha256 ${actual}, expected ${ref.sha256}. Delete it and run: npx tflite-fn setup`,
        { cause: withHostPath('sha256 mismatch', ref.path) },
      );
    }
  }
  return bytes;
}
