/**
 * The broker side of stream processing, on NATS JetStream: which streams and consumer exist,
 * and with what guarantees. Created idempotently by workers and sources alike, so either may
 * start first.
 *
 * - Frames go to a work-queue stream: each frame is delivered to one worker, and deleted once
 *   acknowledged.
 * - A durable pull consumer shared by all workers: explicit acks, redelivery after `ackWaitMs`
 *   (a worker that died or hung), at most `maxDeliver` deliveries.
 * - Results and dead letters go to a second stream, which de-duplicates by message id (the
 *   frame id) within `DUPLICATE_WINDOW`: a frame redelivered after its result was published
 *   (the worker died between publishing and acking) still has exactly one result.
 */
import { AckPolicy, type JetStreamManager, nanos, RetentionPolicy } from 'nats';

export interface StreamNames {
  /** Subject frames are published on. */
  readonly input: string;
  /** Subject results are published on. */
  readonly output: string;
  /** Subject frames that cannot be processed go to, with their error. */
  readonly deadLetter: string;
}

export interface DeliveryPolicy {
  /** A delivered frame not acknowledged within this time goes to another worker. */
  readonly ackWaitMs: number;
  /** Deliveries before a frame that keeps failing is dead-lettered. */
  readonly maxDeliver: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = { ackWaitMs: 10_000, maxDeliver: 3 };
const DUPLICATE_WINDOW_MS = 5 * 60_000;

/** JetStream names may not contain '.', '*', '>' or spaces. */
function streamName(subject: string, suffix: string): string {
  return `TFLITE_FN_${subject.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}_${suffix}`;
}

export function namesFor(subjects: StreamNames) {
  return {
    frames: streamName(subjects.input, 'FRAMES'),
    results: streamName(subjects.output, 'RESULTS'),
    consumer: `tflite-fn-${subjects.input.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    /** Object store bucket for frames too large for one message (see frame-objects.ts). */
    objects: streamName(subjects.input, 'OBJECTS'),
  };
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
  retention: RetentionPolicy,
): Promise<void> {
  const config = { name, subjects, retention, duplicate_window: nanos(DUPLICATE_WINDOW_MS) };
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add(config);
  }
}

/** Creates the frames and results streams and the workers' consumer, if missing. */
export async function ensureTopology(
  jsm: JetStreamManager,
  subjects: StreamNames,
  delivery: DeliveryPolicy = DEFAULT_DELIVERY,
): Promise<ReturnType<typeof namesFor>> {
  const names = namesFor(subjects);
  await ensureStream(jsm, names.frames, [subjects.input], RetentionPolicy.Workqueue);
  await ensureStream(jsm, names.results, [subjects.output, subjects.deadLetter], RetentionPolicy.Limits);
  try {
    await jsm.consumers.info(names.frames, names.consumer);
  } catch {
    await jsm.consumers.add(names.frames, {
      durable_name: names.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(delivery.ackWaitMs),
      max_deliver: delivery.maxDeliver,
    });
  }
  return names;
}

/**
 * Header names frames carry (a source sets them; a worker copies id and source into its
 * result). Frame-Body says what the body is: absent, the image bytes; `object`, a reference to
 * the bytes in the object store; anything else is refused.
 */
export const FRAME_HEADERS = { id: 'Frame-Id', source: 'Frame-Source', body: 'Frame-Body' } as const;
