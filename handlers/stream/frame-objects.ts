/**
 * Frames too large for one broker message travel through the JetStream object store: the
 * source stores the bytes as an object (chunked by the client below the server's max_payload)
 * and publishes a small reference in their place; the worker fetches the object, checks it is
 * the very frame the reference names, and deletes it once the frame's result is published and
 * the frame acknowledged.
 *
 * The object store bucket is bounded in bytes and in age, so objects nobody will delete (a
 * source that died between storing and publishing, a worker that died between acknowledging
 * and deleting, a frame published twice) cannot fill the broker.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type JetStreamClient, type NatsConnection, nanos, type ObjectStore, StorageType } from 'nats';
import { BadRequestError, TfliteFnError } from '../../src/errors.js';

export const FRAME_OBJECT_LIMITS = {
  /**
   * Bytes the bucket may hold: 8 frames of the largest image a worker accepts (32 MiB), or about
   * 180 of a 12-megapixel phone's JPEGs in flight. Reserved on the server when the bucket is made.
   */
  maxBytes: 256 * 1024 * 1024,
  /** Objects older than this are removed by the server: longer than any sane queue backlog. */
  ttlMs: 60 * 60_000,
} as const;

/**
 * Room left for the frame's headers (id, source, message id: file names, 255 bytes each at
 * most on Linux) when deciding whether its bytes fit in one message.
 */
const HEADERS_ROOM = 4096;

/** The Frame-Body header's value on a message whose body is a `FrameReference`, not image bytes. */
export const FRAME_BODY_OBJECT = 'object';

/** What a by-reference frame message carries instead of the image. */
export interface FrameReference {
  readonly bucket: string;
  readonly name: string;
  /** As the object store reports it: `SHA-256=` and the base64url digest of the bytes. */
  readonly digest: string;
  readonly size: number;
}

/** The largest frame that goes inline: the server's max_payload, as this connection was told it. */
export function maxInlineBytes(nc: NatsConnection): number {
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  return maxPayload - HEADERS_ROOM;
}

/** Opens the frames' bucket, creating it with its limits if missing (sources and workers both may). */
export async function openFrameObjects(js: JetStreamClient, bucket: string): Promise<ObjectStore> {
  try {
    return await js.views.os(bucket, {
      storage: StorageType.File,
      max_bytes: FRAME_OBJECT_LIMITS.maxBytes,
      ttl: nanos(FRAME_OBJECT_LIMITS.ttlMs),
      description: 'tflite-fn: frames too large for one message, deleted once answered',
    });
  } catch (cause) {
    // Typically a JetStream without room to reserve the bucket's bytes (its max_file_store).
    throw new TfliteFnError(
      503,
      'frame_store_unavailable',
      `the broker could not open the object store '${bucket}' for frames above its max_payload (a ${FRAME_OBJECT_LIMITS.maxBytes / 1024 / 1024} MiB bucket): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, expose: true },
    );
  }
}

/**
 * Stores a frame under a name no other put uses (the frame id and a random suffix): a frame
 * published twice gets two objects, and deleting the duplicate never touches the original.
 */
export async function storeFrame(
  objects: ObjectStore,
  frameId: string,
  bytes: Uint8Array,
): Promise<FrameReference> {
  const info = await objects.putBlob({ name: `${frameId}/${randomUUID()}` }, bytes);
  return { bucket: info.bucket, name: info.name, digest: info.digest, size: info.size };
}

/** Reads a reference from a message body; deny by default: only our bucket, only sane fields. */
export function parseFrameReference(body: Uint8Array, bucket: string, maxBytes: number): FrameReference {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new BadRequestError('bad_frame_reference', 'the frame reference is not JSON');
  }
  const ref = value as Partial<Record<keyof FrameReference, unknown>> | null;
  if (
    typeof ref !== 'object' ||
    ref === null ||
    typeof ref.bucket !== 'string' ||
    typeof ref.name !== 'string' ||
    typeof ref.digest !== 'string' ||
    typeof ref.size !== 'number'
  )
    throw new BadRequestError(
      'bad_frame_reference',
      'the frame reference needs bucket, name, digest and size',
    );
  // A worker reads and deletes objects on a publisher's word: never outside the frames' bucket.
  if (ref.bucket !== bucket)
    throw new BadRequestError(
      'bad_frame_reference',
      `the frame reference names bucket '${ref.bucket}'; this stream's frames are in '${bucket}'`,
    );
  if (!Number.isSafeInteger(ref.size) || ref.size < 0 || ref.size > maxBytes)
    throw new BadRequestError(
      'bad_frame_reference',
      `the frame reference claims ${ref.size} bytes; the limit is ${maxBytes} (TFLITE_FN_MAX_BYTES)`,
    );
  return { bucket: ref.bucket, name: ref.name, digest: ref.digest, size: ref.size };
}

/** The object is not there: its TTL passed, or it was deleted. A redelivery cannot bring it back. */
export class FrameObjectMissingError extends TfliteFnError {
  constructor(ref: FrameReference) {
    super(
      410,
      'frame_object_missing',
      `the frame's object '${ref.name}' expired or was deleted (objects live ${FRAME_OBJECT_LIMITS.ttlMs / 60_000} min)`,
    );
  }
}

function corrupt(ref: FrameReference, what: string): BadRequestError {
  return new BadRequestError('frame_object_corrupt', `the frame's object '${ref.name}' ${what}`);
}

function sameDigest(digest: string, bytes: Uint8Array): boolean {
  if (!digest.startsWith('SHA-256=')) return false;
  const expected = Buffer.from(digest.slice('SHA-256='.length), 'base64url');
  return expected.equals(createHash('sha256').update(bytes).digest());
}

/**
 * The frame's bytes, checked against the reference's size and digest: the object store checks
 * chunks against the object's own digest, this checks the object is the frame the source named.
 */
export async function fetchFrame(objects: ObjectStore, ref: FrameReference): Promise<Uint8Array> {
  const info = await objects.info(ref.name);
  if (info === null || info.deleted) throw new FrameObjectMissingError(ref);
  if (info.size !== ref.size || info.digest !== ref.digest)
    throw corrupt(ref, `holds ${info.size} bytes with another digest than the frame's (${ref.digest})`);
  let bytes: Uint8Array | null;
  try {
    bytes = await objects.getBlob(ref.name);
  } catch (error) {
    // The client's own check of the chunks against the object's digest.
    if (/corrupt|digest/i.test(String(error))) throw corrupt(ref, `is corrupt: ${String(error)}`);
    throw error;
  }
  if (bytes === null) throw new FrameObjectMissingError(ref);
  if (bytes.length !== ref.size || !sameDigest(ref.digest, bytes))
    throw corrupt(ref, `does not match the frame's digest (${ref.digest})`);
  return bytes;
}
