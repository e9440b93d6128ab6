/**
 * The WasmEdge TensorFlow host modules: `wasmedge_tensorflowlite` sessions in both ABIs the
 * published crates use, `wasmedge_image` decoding (image-host.ts), and `wasmedge_tensorflow`
 * present only so programs link.
 *
 * - 0.2 (crate wasmedge_tensorflow_interface 0.2, the published examples): prefixed names,
 *   u64 handles, failure shown only by a 0 handle or a 1 status.
 * - 0.3: unprefixed names, u32 ids, every call returns an errno and writes results through
 *   out-pointers.
 *
 * Unlike the original host, every pointer is bounds-checked, and a wrong tensor name, a size
 * mismatch or an undecodable image fails and says why on the guest's stderr, instead of
 * handing back zeros.
 */
import type { GuestMemory } from './guest-memory.js';
import type { HostCall, HostLimits } from './host-calls.js';
import { ERRNO, errnoOf, HostFailure } from './host-failure.js';
import { createImageHost } from './image-host.js';
import { TfliteSessions } from './tflite-sessions.js';

type Complain = (message: string) => void;

/** The 0.2 face: a failure returns `failed` (the only signal that ABI has). */
function legacy<T>(what: string, complain: Complain, failed: T, body: () => T): T {
  let value = failed;
  const errno = errnoOf(what, complain, () => {
    value = body();
  });
  return errno === 0 ? value : failed;
}

/**
 * A 0.2 tensor handle names one output of one session, read from its latest run (as the
 * original's TfLiteTensor pointer does). It encodes both, so a program asking for handles in a
 * loop costs the host nothing; 0 stays the failure value.
 */
const OUTPUTS_PER_SESSION = 0x10000n;
const tensorHandle = (session: number, index: number) =>
  BigInt(session) * OUTPUTS_PER_SESSION + BigInt(index) + 1n;
function tensorOf(handle: bigint): { session: number; index: number } {
  const value = BigInt.asUintN(64, handle) - 1n;
  return { session: Number(value / OUTPUTS_PER_SESSION), index: Number(value % OUTPUTS_PER_SESSION) };
}

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the host module's import table (the 0.2 and 0.3 ABIs side by side, so each function's two forms can be compared), one short entry per import
function tensorflowLite(sessions: TfliteSessions, memory: () => GuestMemory, complain: Complain) {
  const name = (pointer: number, length: number) => memory().readString(pointer, length);
  const input = (dataPtr: number, dataLen: number) => () => memory().read(dataPtr, dataLen);

  const v02 = {
    wasmedge_tensorflowlite_create_session: (modelPtr: number, modelLen: number): bigint =>
      legacy('create_session', complain, 0n, () => BigInt(sessions.create(memory(), modelPtr, modelLen))),
    wasmedge_tensorflowlite_delete_session: (session: bigint): void => sessions.delete(Number(session)),
    wasmedge_tensorflowlite_append_input: (
      session: bigint,
      namePtr: number,
      nameLen: number,
      dataPtr: number,
      dataLen: number,
    ): void =>
      legacy('append_input', complain, undefined, () =>
        sessions.appendInput(Number(session), name(namePtr, nameLen), dataLen, input(dataPtr, dataLen)),
      ),
    wasmedge_tensorflowlite_run_session: (session: bigint): number =>
      legacy('run_session', complain, 1, () => {
        sessions.run(Number(session));
        return 0;
      }),
    wasmedge_tensorflowlite_get_output_tensor: (session: bigint, namePtr: number, nameLen: number): bigint =>
      legacy('get_output_tensor', complain, 0n, () => {
        const id = Number(session);
        // Also before a run, as WasmEdge's (a TfLiteTensor pointer): the data is read later.
        return tensorHandle(id, sessions.outputIndex(id, name(namePtr, nameLen)));
      }),
    wasmedge_tensorflowlite_get_tensor_len: (tensor: bigint): number =>
      legacy('get_tensor_len', complain, 0, () => {
        // The model's size for the tensor, known before a run as in WasmEdge.
        const { session, index } = tensorOf(tensor);
        return sessions.outputLength(session, index);
      }),
    wasmedge_tensorflowlite_get_tensor_data: (tensor: bigint, dstPtr: number): void => {
      const { session, index } = tensorOf(tensor);
      let data: Uint8Array | undefined;
      legacy('get_tensor_data', complain, undefined, () => {
        data = sessions.output(session, index);
      });
      // The 0.2 signature has no room for an error: a bad destination traps the guest.
      if (data) memory().write(dstPtr, data);
    },
  };

  const v03 = {
    create_session: (modelPtr: number, modelLen: number, outSessionPtr: number): number =>
      errnoOf('create_session', complain, () => {
        memory().writeU32(outSessionPtr, 0); // checks the out-pointer before compiling
        memory().writeU32(outSessionPtr, sessions.create(memory(), modelPtr, modelLen));
      }),
    delete_session: (session: number): number =>
      errnoOf('delete_session', complain, () => sessions.delete(session)),
    append_input: (session: number, namePtr: number, nameLen: number, dataPtr: number, dataLen: number) =>
      errnoOf('append_input', complain, () =>
        sessions.appendInput(session, name(namePtr, nameLen), dataLen, input(dataPtr, dataLen)),
      ),
    run_session: (session: number): number => errnoOf('run_session', complain, () => sessions.run(session)),
    get_output_tensor: (session: number, namePtr: number, nameLen: number, outTensorPtr: number) =>
      errnoOf('get_output_tensor', complain, () =>
        memory().writeU32(outTensorPtr, sessions.outputIndex(session, name(namePtr, nameLen))),
      ),
    get_tensor_len: (session: number, tensor: number, outLengthPtr: number): number =>
      errnoOf('get_tensor_len', complain, () =>
        memory().writeU32(outLengthPtr, sessions.outputLength(session, tensor)),
      ),
    get_tensor_data: (
      session: number,
      tensor: number,
      bufPtr: number,
      bufLen: number,
      outWrittenPtr: number,
    ) =>
      errnoOf('get_tensor_data', complain, () => {
        memory().writeU32(outWrittenPtr, 0);
        const data = sessions.output(session, tensor);
        // As WasmEdge: the buffer must be exactly the tensor's size, so a guest that got the
        // type wrong hears about it instead of reading half a tensor.
        if (bufLen !== data.length)
          throw new HostFailure(
            1,
            `the buffer holds ${bufLen} bytes; output tensor ${tensor} has ${data.length}`,
          );
        memory().write(bufPtr, data);
        memory().writeU32(outWrittenPtr, data.length);
      }),
  };

  return { ...v02, ...v03 };
}

/**
 * Present so programs that import them link; each call says on stderr that it is not
 * supported. The 0.2 names answer what WasmEdge's own stand-in answers where TensorFlow is
 * absent (WasmEdgeTensorflowFake*, second-state/WasmEdge-tensorflow
 * include/tensorflowfake_func.h): 0 from every call (a 0 handle, run_session 0, a 0-length
 * tensor), nothing written. The 0.3 names have no such stand-in; they answer errno 5, runtime
 * error, a value the 0.3 crate's WasmedgeTfErrno knows.
 */
function tensorflowStubs(complain: Complain) {
  const LEGACY_HANDLES = new Set([
    'wasmedge_tensorflow_create_session',
    'wasmedge_tensorflow_get_output_tensor',
  ]);
  const unsupported = (name: string) => () => {
    complain(
      `tflite-fn host: wasmedge_tensorflow.${name}: full TensorFlow graphs are not supported; convert the model to TensorFlow Lite\n`,
    );
    if (LEGACY_HANDLES.has(name)) return 0n;
    return name.startsWith('wasmedge_tensorflow_') ? 0 : ERRNO.RUNTIME_ERROR;
  };
  return new Proxy({} as Record<string, () => bigint | number>, {
    get: (_target, name: string) => unsupported(name),
  });
}

export function createTensorflowHost(
  call: HostCall,
  memory: () => GuestMemory,
  complain: Complain,
  limits: HostLimits,
) {
  return {
    wasmedge_tensorflowlite: tensorflowLite(new TfliteSessions(call, limits.maxModelBytes), memory, complain),
    wasmedge_image: createImageHost(call, memory, complain, limits),
    wasmedge_tensorflow: tensorflowStubs(complain),
  };
}
