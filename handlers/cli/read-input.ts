/**
 * Reads a whole image (or program) from a file or stdin, the way a program reads its input,
 * never more than the image limit: `tflite-fn classify /dev/zero` stops after 32 MiB.
 */
import { MAX_BYTES } from '../../src/config/index.js';
import { defaultImageLimits } from '../../src/image/decode.js';
import { type InputLimit, readFileCapped, readStreamCapped } from '../../src/util/read-capped.js';

/** The limit the decoder applies to every image (TFLITE_FN_MAX_BYTES), applied while reading. */
export function imageInputLimit(): InputLimit {
  return { maxBytes: defaultImageLimits().maxBytes, setting: MAX_BYTES.name };
}

export async function readStdin(
  stdin: NodeJS.ReadableStream = process.stdin,
  limit: InputLimit = imageInputLimit(),
): Promise<Uint8Array> {
  try {
    return await readStreamCapped(stdin as AsyncIterable<Uint8Array | string>, limit);
  } finally {
    // A read stopped at the limit leaves stdin flowing into nothing: stop it.
    if (stdin === process.stdin) process.stdin.pause();
  }
}

/** `-` means stdin, as in most Unix tools. */
export function readImageArgument(path: string, limit: InputLimit = imageInputLimit()): Promise<Uint8Array> {
  return path === '-' ? readStdin(process.stdin, limit) : readFileCapped(path, limit);
}
