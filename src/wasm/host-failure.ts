/**
 * How a host function refuses a guest's request. The newer (0.3) ABI hands `errno` back to the
 * guest; the legacy (0.2) ABI has no error codes, so it returns its failure value (a 0 handle,
 * a 1 status). Either way the message goes to the guest's stderr.
 */
import { GuestFault } from './guest-memory.js';

/** Error numbers of WasmEdge's 0.3 TensorFlow ABI (crate wasmedge_tensorflow_interface 0.3). */
export const ERRNO = {
  SUCCESS: 0,
  INVALID_ARGUMENT: 1,
  INVALID_ENCODING: 2,
  MISSING_MEMORY: 3,
  BUSY: 4,
  RUNTIME_ERROR: 5,
} as const;

export class HostFailure extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a host function body; a failure becomes its errno and a line on the guest's stderr. */
export function errnoOf(what: string, complain: (message: string) => void, body: () => void): number {
  try {
    body();
    return ERRNO.SUCCESS;
  } catch (error) {
    if (error instanceof HostFailure) {
      complain(`tflite-fn host: ${what}: ${error.message}\n`);
      return error.errno;
    }
    if (error instanceof GuestFault) {
      complain(`tflite-fn host: ${what}: bad pointer: ${error.message}\n`);
      return ERRNO.MISSING_MEMORY;
    }
    throw error;
  }
}
