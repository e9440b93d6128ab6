/**
 * A job on its way to a worker: its large payloads (a task's image, a /v2 job's input tensors)
 * go ahead in pieces, then the job itself, small (protocol.ts's PieceMessage says why). The
 * server writes one piece at a time (worker-process.ts), so it holds one piece's copy at a time
 * and other jobs' messages slip in between; the worker puts each job back together by its id.
 *
 * Every payload here was bounded where the request was read (the body limit, and a tensor's
 * declared shape x datatype against it: src/oip/input-tensors.ts) before any of this runs.
 */
import type { TensorData } from '../../src/engine/types.js';
import type { AnyJobMessage, PieceMessage, ServerMessage } from './protocol.js';

/** Payloads over this go in pieces of this size. */
export const PIECE_BYTES = 1024 * 1024;

function* piecesOf(id: number, part: PieceMessage['part'], data: TensorData): Generator<PieceMessage> {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < bytes.length; at += PIECE_BYTES)
    yield { type: 'chunk', id, part, total: bytes.length, bytes: bytes.subarray(at, at + PIECE_BYTES) };
}

/** The messages that carry `message` to a worker, in order: pieces of its large payloads, then the job. */
export function* jobMessages(message: AnyJobMessage): Generator<ServerMessage> {
  if (message.type === 'job') {
    if (message.image.length <= PIECE_BYTES) return yield message;
    yield* piecesOf(message.id, 'image', message.image);
    return yield { ...message, image: new Uint8Array(0), chunked: true };
  }
  if (message.type !== 'tensors' || message.inputs.every((input) => input.byteLength <= PIECE_BYTES))
    return yield message;
  for (const [part, input] of message.inputs.entries())
    if (input.byteLength > PIECE_BYTES) yield* piecesOf(message.id, part, input);
  // An empty view keeps the input's type, and the channel copies only a view's own bytes.
  const inputs = message.inputs.map((input) =>
    input.byteLength > PIECE_BYTES ? input.subarray(0, 0) : input,
  );
  return yield { ...message, inputs, chunked: true };
}

/** The same typed array type as `like`, over `bytes` (whose buffer starts aligned: a fresh one). */
function viewLike(like: TensorData, bytes: Uint8Array<ArrayBuffer>): TensorData {
  if (like instanceof Uint8Array) return bytes;
  const Type = like instanceof Float32Array ? Float32Array : Int32Array;
  return new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
}

/** A worker's side: pieces gathered by job, each job given its payloads back when it arrives. */
export class JobAssembler {
  readonly #arriving = new Map<string, { readonly bytes: Uint8Array<ArrayBuffer>; filled: number }>();

  add(piece: PieceMessage): void {
    const key = `${piece.id}:${piece.part}`;
    let entry = this.#arriving.get(key);
    if (!entry) {
      entry = { bytes: new Uint8Array(new ArrayBuffer(piece.total)), filled: 0 };
      this.#arriving.set(key, entry);
    }
    entry.bytes.set(piece.bytes, entry.filled);
    entry.filled += piece.bytes.length;
  }

  /** The job with its payloads, as it was before it was sent; what arrived for it is forgotten. */
  complete(message: AnyJobMessage): AnyJobMessage {
    if (message.type === 'describe' || message.type === 'unload' || !message.chunked) return message;
    const { chunked: _, ...job } = message;
    if (job.type === 'job') return { ...job, image: this.#take(job.id, 'image') ?? new Uint8Array(0) };
    const inputs = job.inputs.map((input, part) => {
      const bytes = this.#take(job.id, part);
      return bytes ? viewLike(input, bytes) : input;
    });
    return { ...job, inputs };
  }

  #take(id: number, part: PieceMessage['part']): Uint8Array<ArrayBuffer> | undefined {
    const key = `${id}:${part}`;
    const entry = this.#arriving.get(key);
    this.#arriving.delete(key);
    return entry?.bytes.subarray(0, entry.filled);
  }
}
