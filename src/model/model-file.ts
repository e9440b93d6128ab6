/**
 * Reading a model's files (the model, its labels) with the checks every loader needs: a clear
 * message naming the model and the fix when a file is missing, and the pinned sha256 checked,
 * so a truncated download is refused instead of computing with missing weights.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ModelLoadError } from '../errors.js';

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

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readModelFile(ref: ModelFileRef): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(ref.path);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read';
    throw new ModelLoadError(`the ${ref.what} of model '${ref.id}' ${reason}: ${ref.path}. ${ref.fix}`, {
      cause,
    });
  }
  if (ref.sha256) {
    const actual = sha256Hex(bytes);
    if (actual !== ref.sha256) {
      throw new ModelLoadError(
        `the ${ref.what} of model '${ref.id}' is corrupt: ${ref.path} has sha256 ${actual}, expected ${ref.sha256}. Delete it and run: npx tflite-fn setup`,
      );
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
