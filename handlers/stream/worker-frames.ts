/**
 * How a stream worker gets a frame's bytes: from the message itself, or — when the message
 * carries a reference — from the frames' object store, checked, and deleted once answered.
 */
import type { JetStreamClient, JetStreamManager, JsMsg, ObjectStore } from 'nats';
import { BadRequestError } from '../../src/errors.js';
import { defaultImageLimits } from '../../src/image/decode.js';
import { FRAME_HEADERS, type namesFor } from './broker.js';
import {
  FRAME_BODY_OBJECT,
  type FrameReference,
  fetchFrame,
  openFrameObjects,
  parseFrameReference,
} from './frame-objects.js';

type Log = (event: Record<string, unknown>) => void;

export class WorkerFrames {
  private objects: Promise<ObjectStore> | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: ReturnType<typeof namesFor>,
    private readonly log: Log,
  ) {}

  /** The object reference a message carries, or undefined when its body is the image itself. */
  referenceIn(message: JsMsg): FrameReference | undefined {
    const body = message.headers?.get(FRAME_HEADERS.body) ?? '';
    if (body === '') return undefined;
    if (body !== FRAME_BODY_OBJECT)
      throw new BadRequestError(
        'bad_frame_reference',
        `unknown ${FRAME_HEADERS.body} '${body.slice(0, 40)}'`,
      );
    return parseFrameReference(message.data, this.names.objects, defaultImageLimits().maxBytes);
  }

  async fetch(reference: FrameReference): Promise<Uint8Array> {
    return fetchFrame(await this.open(), reference);
  }

  /** Deletes an answered (or dead-lettered) frame's object; if that fails, the bucket's TTL will. */
  async release(reference: FrameReference): Promise<void> {
    try {
      await (await this.open()).delete(reference.name);
    } catch (error) {
      this.log({
        level: 'warn',
        msg: 'frame object not deleted',
        object: reference.name,
        error: String(error),
      });
    }
  }

  /** Whether the frame is still in the work queue, i.e. no delivery of it was acknowledged yet. */
  async stillQueued(message: JsMsg): Promise<boolean> {
    try {
      await this.jsm.streams.getMessage(this.names.frames, { seq: message.seq });
      return true;
    } catch (error) {
      // Any answer but "no such message" counts as queued: the frame is then dead-lettered.
      return !/no message found|404/i.test(`${(error as { code?: string }).code} ${String(error)}`);
    }
  }

  private open(): Promise<ObjectStore> {
    this.objects ??= openFrameObjects(this.js, this.names.objects);
    return this.objects;
  }
}
