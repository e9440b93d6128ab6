/**
 * `tflite-fn stream-source VIDEO|DIR`: the source side of stream processing. From a folder,
 * every image in name order; from a video, every Nth frame (24: one a second of a 24 fps
 * camera, as in WasmEdge's YoMo example) cut to JPEG by ffmpeg. Each frame is published with
 * its id and source in headers, and its id as the message id, so publishing the same source
 * twice within the broker's duplicate window adds nothing.
 *
 * A frame too large for one message (the server's max_payload) goes through the object store
 * and the message carries a reference (frame-objects.ts). A file that cannot be published
 * (unreadable, too large for any worker, refused by the broker) is reported and skipped: one
 * bad file does not stop the rest.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { connect, headers, type JetStreamClient, type NatsConnection, type ObjectStore } from 'nats';
import { BadRequestError, TfliteFnError, TooLargeError } from '../../src/errors.js';
import { defaultImageLimits } from '../../src/image/decode.js';
import { ensureTopology, FRAME_HEADERS, namesFor, type StreamNames } from './broker.js';
import {
  FRAME_BODY_OBJECT,
  FRAME_OBJECT_LIMITS,
  maxInlineBytes,
  openFrameObjects,
  storeFrame,
} from './frame-objects.js';
import { extractFrames } from './video-frames.js';

export interface SourceOptions extends StreamNames {
  readonly server: string;
  /** For videos: publish every Nth frame. */
  readonly every: number;
  /** Frames per second at most (0: as fast as the broker takes them). */
  readonly rate: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SourceFailure {
  /** The file's name in the folder (or the extracted frame's). */
  readonly file: string;
  readonly reason: string;
}

export interface SourceSummary {
  readonly published: number;
  /** Of those, frames that went through the object store. */
  readonly byReference: number;
  readonly failed: readonly SourceFailure[];
}

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|bmp|avif)$/i;

/**
 * The largest frame worth publishing: what a worker accepts (TFLITE_FN_MAX_BYTES), and what
 * the object store bucket can hold.
 */
function maxFrameBytes(): number {
  return Math.min(defaultImageLimits().maxBytes, FRAME_OBJECT_LIMITS.maxBytes);
}

/** Reads one frame file, its size checked before a byte is read. */
function readFrameFile(file: string, maxBytes: number): Buffer {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(file);
  } catch (error) {
    throw fileError(error);
  }
  if (stats.isDirectory()) throw new BadRequestError('bad_frame_file', 'is a directory');
  if (!stats.isFile()) throw new BadRequestError('bad_frame_file', 'is not a regular file');
  const size = stats.size;
  const tooLarge = (bytes: number) =>
    new TooLargeError(
      'payload_too_large',
      `is ${bytes} bytes; the limit is ${maxBytes} (the largest image a worker accepts, TFLITE_FN_MAX_BYTES)`,
    );
  if (size > maxBytes) throw tooLarge(size);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw fileError(error);
  }
  if (bytes.length > maxBytes) throw tooLarge(bytes.length); // it grew since stat
  return bytes;
}

function fileError(error: unknown) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new BadRequestError('bad_frame_file', 'does not exist (a dangling link, or removed)');
  if (code === 'EACCES') return new BadRequestError('bad_frame_file', 'cannot be read: permission denied');
  return new BadRequestError('bad_frame_file', `cannot be read: ${code ?? String(error)}`);
}

/** Why a file was not published, for the person running the source (it is their own file). */
function failureReason(error: unknown): string {
  if (error instanceof TfliteFnError) return error.message;
  return `the broker refused it: ${error instanceof Error ? error.message : String(error)}`;
}

/** Publishes frames inline or by reference, as their size requires. */
class FramePublisher {
  private objects: Promise<ObjectStore> | undefined;
  private readonly maxInline: number;

  constructor(
    nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly subjects: StreamNames,
  ) {
    this.maxInline = maxInlineBytes(nc);
  }

  /** Resolves with how the frame went: in the message, or through the object store. */
  async publish(frameId: string, source: string, bytes: Uint8Array): Promise<'inline' | 'object'> {
    const h = headers();
    h.set(FRAME_HEADERS.id, frameId);
    h.set(FRAME_HEADERS.source, source);
    if (bytes.length <= this.maxInline) {
      await this.js.publish(this.subjects.input, bytes, { msgID: frameId, headers: h });
      return 'inline';
    }
    // Made on first need: a source of small frames never reserves the bucket's bytes.
    this.objects ??= openFrameObjects(this.js, namesFor(this.subjects).objects);
    const objects = await this.objects;
    const reference = await storeFrame(objects, frameId, bytes);
    h.set(FRAME_HEADERS.body, FRAME_BODY_OBJECT);
    let duplicate: boolean;
    try {
      ({ duplicate } = await this.js.publish(this.subjects.input, JSON.stringify(reference), {
        msgID: frameId,
        headers: h,
      }));
    } catch (error) {
      await objects.delete(reference.name).catch(() => undefined); // else the bucket's TTL removes it
      throw error;
    }
    // Already published within the duplicate window: that message has its own object, and
    // nothing will ever read this one.
    if (duplicate) await objects.delete(reference.name);
    return 'object';
  }
}

/** The frames of a folder (images in name order) or of a video, and how each is numbered. */
async function listFrames(path: string, every: number) {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    throw new BadRequestError('bad_option', `${path} does not exist`);
  }
  const fromVideo = !stats.isDirectory();
  const dir = fromVideo ? await extractFrames(path, every) : path;
  const files = readdirSync(dir)
    .filter((name) => IMAGE.test(name))
    .sort();
  const frameNumber = (name: string, index: number) =>
    fromVideo ? String(index * every) : basename(name, extname(name));
  const cleanUp = () => {
    if (fromVideo) rmSync(dir, { recursive: true, force: true });
  };
  return { dir, files, frameNumber, cleanUp };
}

export async function publishSource(path: string, options: SourceOptions): Promise<SourceSummary> {
  const { dir, files, frameNumber, cleanUp } = await listFrames(path, options.every);
  try {
    const nc = await connect({ servers: options.server, name: 'tflite-fn stream-source' });
    try {
      await ensureTopology(await nc.jetstreamManager(), options);
      const publisher = new FramePublisher(nc, nc.jetstream(), options);
      const source = basename(path);
      const maxBytes = maxFrameBytes();
      const gapMs = options.rate > 0 ? 1000 / options.rate : 0;
      const started = performance.now();
      let published = 0;
      let byReference = 0;
      const failed: SourceFailure[] = [];
      for (const [index, name] of files.entries()) {
        try {
          const bytes = readFrameFile(join(dir, name), maxBytes);
          const how = await publisher.publish(`${source}#${frameNumber(name, index)}`, source, bytes);
          published++;
          if (how === 'object') byReference++;
        } catch (error) {
          // A lost connection is not this file's fault, and every later file would fail too.
          if (nc.isClosed()) throw error;
          failed.push({ file: name, reason: failureReason(error) });
        }
        options.onProgress?.(index + 1, files.length);
        const due = started + (index + 1) * gapMs;
        if (gapMs > 0 && due > performance.now())
          await new Promise((r) => setTimeout(r, due - performance.now()));
      }
      return { published, byReference, failed };
    } finally {
      await nc.drain();
    }
  } finally {
    cleanUp();
  }
}
