/**
 * TensorFlow Lite sessions as WasmEdge's host keeps them, minus its blind spots: each session
 * knows its model's tensors, so a wrong name or a wrong byte count is refused with a message
 * that lists what would have been right. Both ABIs (0.2 and 0.3) are faces over this one.
 */
import { createHash } from 'node:crypto';
import { bytesPerElement, type WireTensorInfo } from '../engine/ort-guest-model.js';
import type { GuestMemory } from './guest-memory.js';
import type { HostCall, ModelFormat } from './host-calls.js';
import { ERRNO, HostFailure } from './host-failure.js';

interface Session {
  readonly handle: number;
  readonly inputs: readonly WireTensorInfo[];
  readonly outputs: readonly WireTensorInfo[];
  readonly given: Map<string, Uint8Array>;
  results?: readonly Uint8Array[];
}

/** The bytes of a tensor of fixed shape (an open dimension, -1, makes it negative: never a match). */
export function byteLength(info: WireTensorInfo): number {
  return info.shape.reduce((a, b) => a * b, 1) * bytesPerElement(info.dtype);
}

const quoted = (tensors: readonly WireTensorInfo[]) => tensors.map((t) => `'${t.name}'`).join(', ');

/**
 * The models this worker hashed lately, with a copy of their bytes. A program that embeds its
 * model hands over the same bytes on every run: comparing them with the copy (memcmp, ~0.3 ms
 * for a MobileNet) proves that exactly, where hashing again costs ~2.5 ms of a ~20 ms run.
 */
const recentModels: { readonly bytes: Uint8Array; readonly sha256: string }[] = [];
const RECENT_MODELS = 2;

function knownSha256(model: Uint8Array): string | undefined {
  return recentModels.find(
    (entry) => entry.bytes.length === model.length && Buffer.compare(entry.bytes, model) === 0,
  )?.sha256;
}

/**
 * Only models the host compiled are remembered: a copy of anything a guest passes would let
 * it pin up to two model-sized buffers in every idle worker.
 */
function remember(model: Uint8Array, sha256: string): void {
  if (knownSha256(model)) return;
  recentModels.unshift({ bytes: model.slice(), sha256 });
  recentModels.length = Math.min(recentModels.length, RECENT_MODELS);
}

export const MAX_SESSIONS = 256;

/** A model the owner thread compiled for a guest: its handle there, and its tensors. */
export interface GuestModel {
  readonly handle: number;
  readonly inputs: readonly WireTensorInfo[];
  readonly outputs: readonly WireTensorInfo[];
}

/**
 * Compiles (or finds, by sha256) the model in guest memory on the engine the deployment
 * selected; shared by every host ABI that takes model bytes from a guest.
 */
export function compileGuestModel(
  call: HostCall,
  maxModelBytes: number,
  memory: GuestMemory,
  modelPtr: number,
  modelLen: number,
  format: ModelFormat = 'tflite',
): GuestModel {
  if (modelLen > maxModelBytes)
    throw new HostFailure(
      ERRNO.INVALID_ARGUMENT,
      `the model is ${modelLen} bytes; the limit is ${maxModelBytes} (TFLITE_FN_MAX_MODEL_BYTES)`,
    );
  const model = memory.view(modelPtr, modelLen);
  const sha256 = knownSha256(model) ?? createHash('sha256').update(model).digest('hex');
  const compiled = compileKnownModel(call, sha256, format, () => memory.read(modelPtr, modelLen));
  remember(memory.view(modelPtr, modelLen), sha256);
  return compiled;
}

/**
 * Asks the owner thread for the model by sha256; `read` gives its bytes, called only when the
 * owner has not compiled it yet.
 */
export function compileKnownModel(
  call: HostCall,
  sha256: string,
  format: ModelFormat,
  read: () => Uint8Array,
): GuestModel {
  let reply = call({ op: 'compile', sha256, format });
  if (!reply.ok && reply.unknown) reply = call({ op: 'compile', sha256, format, model: read() });
  if (!reply.ok) throw new HostFailure(ERRNO.INVALID_ARGUMENT, reply.error);
  if (!('handle' in reply)) throw new HostFailure(ERRNO.RUNTIME_ERROR, 'unexpected reply');
  return { handle: reply.handle, inputs: reply.inputs, outputs: reply.outputs };
}

export class TfliteSessions {
  readonly #sessions = new Map<number, Session>();
  #nextId = 1;

  constructor(
    private readonly call: HostCall,
    private readonly maxModelBytes: number,
  ) {}

  /** Compiles (or finds, by sha256) the model in guest memory; returns the new session id. */
  create(memory: GuestMemory, modelPtr: number, modelLen: number): number {
    if (this.#sessions.size >= MAX_SESSIONS)
      throw new HostFailure(ERRNO.BUSY, `${MAX_SESSIONS} sessions are open; delete one first`);
    const model = compileGuestModel(this.call, this.maxModelBytes, memory, modelPtr, modelLen);
    const id = this.#nextId++;
    this.#sessions.set(id, { ...model, given: new Map() });
    return id;
  }

  delete(id: number): void {
    this.#sessions.delete(id);
  }

  #get(id: number): Session {
    const session = this.#sessions.get(id);
    if (!session) throw new HostFailure(ERRNO.INVALID_ARGUMENT, `no session ${id}`);
    return session;
  }

  /** `read` copies the data out of guest memory, called only once its size is known right. */
  appendInput(id: number, name: string, length: number, read: () => Uint8Array): void {
    const session = this.#get(id);
    // By exact name only, as WasmEdge's AppendInput (no shortcut for a single-input model).
    const info = session.inputs.find((input) => input.name === name);
    if (!info)
      throw new HostFailure(
        ERRNO.INVALID_ARGUMENT,
        `the model has no input '${name}'; its inputs: ${quoted(session.inputs)}`,
      );
    if (length !== byteLength(info))
      throw new HostFailure(
        ERRNO.INVALID_ARGUMENT,
        `'${info.name}' takes ${byteLength(info)} bytes (${info.dtype} [${info.shape.join(', ')}]), got ${length}`,
      );
    session.given.set(info.name, read());
  }

  run(id: number): void {
    const session = this.#get(id);
    const missing = session.inputs.filter((input) => !session.given.has(input.name));
    if (missing.length > 0)
      throw new HostFailure(ERRNO.INVALID_ARGUMENT, `inputs not set: ${quoted(missing)}`);
    const reply = this.call({
      op: 'run',
      handle: session.handle,
      inputs: session.inputs.map((input) => session.given.get(input.name) as Uint8Array),
    });
    // WasmEdge answers a failed TfLiteInterpreterInvoke with Busy (4), not RuntimeError
    // (plugins/wasmedge_tensorflowlite/tensorflowlite_func.cpp, RunSession::body).
    if (!reply.ok) throw new HostFailure(ERRNO.BUSY, reply.error);
    if (!('outputs' in reply) || !(reply.outputs[0] instanceof Uint8Array))
      throw new HostFailure(ERRNO.RUNTIME_ERROR, 'unexpected reply');
    session.results = reply.outputs as Uint8Array[];
  }

  /** The output's index, which the 0.3 ABI uses as the tensor id. */
  outputIndex(id: number, name: string): number {
    const session = this.#get(id);
    const index = session.outputs.findIndex((output) => output.name === name);
    if (index < 0)
      throw new HostFailure(
        ERRNO.INVALID_ARGUMENT,
        `the model has no output '${name}'; its outputs: ${quoted(session.outputs)}`,
      );
    return index;
  }

  outputLength(id: number, index: number): number {
    const info = this.#get(id).outputs[index];
    if (!info) throw new HostFailure(ERRNO.INVALID_ARGUMENT, `no output tensor ${index}`);
    return byteLength(info);
  }

  /** The bytes of an output of the last successful run (never zeros standing in for one). */
  output(id: number, index: number): Uint8Array {
    const session = this.#get(id);
    if (!session.outputs[index]) throw new HostFailure(ERRNO.INVALID_ARGUMENT, `no output tensor ${index}`);
    if (!session.results) throw new HostFailure(ERRNO.INVALID_ARGUMENT, 'run_session has not succeeded yet');
    return session.results[index] as Uint8Array;
  }
}
