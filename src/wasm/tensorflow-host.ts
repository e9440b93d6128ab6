/**
 * The WasmEdge TensorFlow host modules, for guests written against WasmEdge's TensorFlow
 * extension (Rust crate `wasmedge_tensorflow_interface` 0.2): `wasmedge_tensorflowlite`
 * sessions, `wasmedge_image` decoding, and `wasmedge_tensorflow` present only so programs link.
 *
 * Unlike the original host, every pointer is bounds-checked, and a wrong tensor name, a size
 * mismatch or an undecodable image returns the failure value and says why on the guest's
 * stderr, instead of handing back zeros.
 */
import { createHash } from 'node:crypto';
import type { TensorInfo } from '../engine/types.js';
import type { GuestMemory } from './guest-memory.js';
import type { HostCall, PixelLayout } from './host-calls.js';

interface Session {
  readonly handle: number;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly given: Map<string, Uint8Array>;
  results?: readonly Uint8Array[];
}

const BYTES_PER_ELEMENT: Record<string, number> = { uint8: 1, int32: 4, float32: 4 };

function byteLength(info: TensorInfo): number {
  return info.shape.reduce((a, b) => a * b, 1) * (BYTES_PER_ELEMENT[info.dtype] ?? 1);
}

export function createTensorflowHost(
  call: HostCall,
  memory: () => GuestMemory,
  complain: (message: string) => void,
) {
  const sessions = new Map<bigint, Session>();
  const tensors = new Map<bigint, Uint8Array>();
  let nextHandle = 1n;

  const fail = <T>(message: string, value: T): T => {
    complain(`tflite-fn host: ${message}\n`);
    return value;
  };

  const tensorflowlite = {
    wasmedge_tensorflowlite_create_session: (modelPtr: number, modelLen: number): bigint => {
      const sha256 = createHash('sha256').update(memory().view(modelPtr, modelLen)).digest('hex');
      let reply = call({ op: 'compile', sha256 });
      if (!reply.ok && reply.unknown)
        reply = call({ op: 'compile', sha256, model: memory().read(modelPtr, modelLen) });
      if (!reply.ok) return fail(`create_session: ${reply.error}`, 0n);
      if (!('handle' in reply)) return fail('create_session: unexpected reply', 0n);
      const id = nextHandle++;
      sessions.set(id, {
        handle: reply.handle,
        inputs: reply.inputs,
        outputs: reply.outputs,
        given: new Map(),
      });
      return id;
    },
    wasmedge_tensorflowlite_delete_session: (session: bigint): void => {
      sessions.delete(session);
    },
    wasmedge_tensorflowlite_append_input: (
      session: bigint,
      namePtr: number,
      nameLen: number,
      dataPtr: number,
      dataLen: number,
    ): void => {
      const state = sessions.get(session);
      if (!state) {
        fail(`append_input: no session ${session}`, undefined);
        return;
      }
      const name = memory().readString(namePtr, nameLen);
      const info =
        state.inputs.find((input) => input.name === name) ??
        (state.inputs.length === 1 && name === '' ? state.inputs[0] : undefined);
      if (!info) {
        fail(
          `append_input: the model has no input '${name}'; its inputs: ${state.inputs.map((i) => `'${i.name}'`).join(', ')}`,
          0,
        );
        return;
      }
      const data = memory().read(dataPtr, dataLen);
      if (data.length !== byteLength(info)) {
        fail(
          `append_input: '${name}' takes ${byteLength(info)} bytes (${info.dtype} [${info.shape.join(', ')}]), got ${data.length}`,
          0,
        );
        return;
      }
      state.given.set(info.name, data);
    },
    wasmedge_tensorflowlite_run_session: (session: bigint): number => {
      const state = sessions.get(session);
      if (!state) return fail(`run_session: no session ${session}`, 1);
      const missing = state.inputs.filter((input) => !state.given.has(input.name));
      if (missing.length > 0)
        return fail(`run_session: inputs not set: ${missing.map((i) => `'${i.name}'`).join(', ')}`, 1);
      const reply = call({
        op: 'run',
        handle: state.handle,
        inputs: state.inputs.map((input) => state.given.get(input.name) as Uint8Array),
      });
      if (!reply.ok) return fail(`run_session: ${reply.error}`, 1);
      if (!('outputs' in reply) || !(reply.outputs[0] instanceof Uint8Array))
        return fail('run_session: unexpected reply', 1);
      state.results = reply.outputs as Uint8Array[];
      return 0;
    },
    wasmedge_tensorflowlite_get_output_tensor: (
      session: bigint,
      namePtr: number,
      nameLen: number,
    ): bigint => {
      const state = sessions.get(session);
      if (!state) return fail(`get_output_tensor: no session ${session}`, 0n);
      const name = memory().readString(namePtr, nameLen);
      const index = state.outputs.findIndex((output) => output.name === name);
      if (index < 0)
        return fail(
          `get_output_tensor: the model has no output '${name}'; its outputs: ${state.outputs.map((o) => `'${o.name}'`).join(', ')}`,
          0n,
        );
      if (!state.results) return fail('get_output_tensor: run_session has not succeeded yet', 0n);
      const id = nextHandle++;
      tensors.set(id, state.results[index] as Uint8Array);
      return id;
    },
    wasmedge_tensorflowlite_get_tensor_len: (tensor: bigint): number => tensors.get(tensor)?.length ?? 0,
    wasmedge_tensorflowlite_get_tensor_data: (tensor: bigint, dstPtr: number): void => {
      const data = tensors.get(tensor);
      if (!data) {
        fail(`get_tensor_data: no tensor ${tensor}`, undefined);
        return;
      }
      memory().write(dstPtr, data); // a bad destination traps the guest (GuestFault)
    },
  };

  const image: Record<
    string,
    (imgPtr: number, imgLen: number, width: number, height: number, dstPtr: number) => number
  > = {};
  for (const format of ['jpg', 'png']) {
    for (const layout of ['rgb8', 'bgr8', 'rgb32f', 'bgr32f'] as PixelLayout[]) {
      image[`wasmedge_image_load_${format}_to_${layout}`] = (imgPtr, imgLen, width, height, dstPtr) => {
        if (width <= 0 || height <= 0 || width * height > 16_000_000)
          return fail(`load_${format}_to_${layout}: bad size ${width}x${height}`, 1);
        const reply = call({ op: 'decode', image: memory().read(imgPtr, imgLen), width, height, layout });
        if (!reply.ok) return fail(`load_${format}_to_${layout}: ${reply.error}`, 1);
        if (!('pixels' in reply)) return fail('decode: unexpected reply', 1);
        memory().write(dstPtr, reply.pixels);
        return 0;
      };
    }
  }

  // Present so programs that import them link; each call fails with the failure value its
  // signature has (0 handles, 1 for run, nothing for void functions) and says why.
  const RETURNS_HANDLE = new Set([
    'wasmedge_tensorflow_create_session',
    'wasmedge_tensorflow_get_output_tensor',
  ]);
  const unsupported = (name: string) => () => {
    const value = RETURNS_HANDLE.has(name) ? 0n : name === 'wasmedge_tensorflow_run_session' ? 1 : 0;
    return fail(
      `wasmedge_tensorflow.${name}: full TensorFlow graphs are not supported; convert the model to TensorFlow Lite`,
      value,
    );
  };
  const tensorflow = new Proxy({} as Record<string, () => bigint | number>, {
    get: (_target, name: string) => unsupported(name),
  });

  return { wasmedge_tensorflowlite: tensorflowlite, wasmedge_image: image, wasmedge_tensorflow: tensorflow };
}
