/**
 * `tflite-fn stream`: a worker that takes frames from a NATS JetStream work queue, runs the
 * core on each, and publishes a JSON result. Several workers on the same durable consumer
 * share the frames; the broker redelivers what a dead or stuck worker never acknowledged.
 *
 * Per frame: result published (with the frame id as message id, so a redelivered frame is not
 * answered twice), then acknowledged. A frame the core rejects (not an image, truncated, too
 * large) is published to the dead-letter subject with its error and terminated at once: it
 * will never succeed, and must not block the stream. Any other failure is retried (nak) until
 * the consumer's delivery limit, then dead-lettered too.
 *
 * A frame too large for one message arrives as a reference to the object store
 * (frame-objects.ts): fetched and checked against its digest, and deleted only once the ack is
 * confirmed — until then a redelivery may need it. A missing, corrupt or foreign object is a
 * dead letter like any frame that can never succeed.
 */
import { connect, headers, type JetStreamClient, type JsMsg, type NatsConnection } from 'nats';
import { BadRequestError, toTfliteFnError } from '../../src/errors.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { taskById } from '../../src/tasks/index.js';
import { runTask } from '../../src/tasks/run.js';
import type { RawOptions } from '../../src/tasks/task.js';
import {
  DEFAULT_DELIVERY,
  type DeliveryPolicy,
  ensureTopology,
  FRAME_HEADERS,
  type StreamNames,
} from './broker.js';
import { FrameObjectMissingError, type FrameReference } from './frame-objects.js';
import { WorkerFrames } from './worker-frames.js';

export interface StreamWorkerOptions extends StreamNames {
  readonly server: string;
  /** Any task id of TASKS. */
  readonly task: string;
  readonly model?: string | undefined;
  /** The task's options for every frame (as the HTTP query or JSON would give them). */
  readonly options?: RawOptions | undefined;
  /** Frames in flight per worker (default 1: one core's worth; 2 overlaps decode and inference). */
  readonly concurrency?: number;
  readonly delivery?: DeliveryPolicy;
}

/**
 * What a worker publishes per frame: the frame's identity and the task's JSON result (what
 * POST /<task> answers: model, engine, image and the task's own fields), its timings with the
 * frame's own added.
 */
export interface FrameResult {
  readonly frameId: string;
  readonly source: string;
  readonly task: string;
  readonly model: string;
  readonly engine: string;
  readonly worker: string;
  /** 1 on first delivery; more when another worker died or timed out holding the frame. */
  readonly delivery: number;
  readonly timings: { readonly processMs: number; readonly brokerMs: number };
  /** The task's own fields: classify's label and top, detect's faces, objects' objects… */
  readonly [field: string]: unknown;
}

export interface StreamWorker {
  readonly processed: () => number;
  readonly deadLettered: () => number;
  /** Stops taking frames, finishes those in flight, closes the connection. */
  stop(): Promise<void>;
  /** Settles when the worker has stopped (by stop() or a lost connection). */
  readonly done: Promise<void>;
}

type Log = (event: Record<string, unknown>) => void;

const WORKER_ID = `${process.pid}`;

/** The task, its options and its loaded model, shared by every frame of this worker. */
interface TaskModel {
  readonly task: ReturnType<typeof taskById>;
  readonly taskOptions: ReturnType<ReturnType<typeof taskById>['parseOptions']>;
  readonly catalog: ModelCatalog;
  readonly model: string;
}

/**
 * Loaded before taking frames: a worker that cannot load its model (or has one of another
 * task) must not eat the queue.
 */
async function loadTaskModel(options: StreamWorkerOptions): Promise<TaskModel> {
  const task = taskById(options.task);
  const taskOptions = task.parseOptions(options.options ?? {});
  const catalog = new ModelCatalog({ warmUp: true });
  const model = options.model ?? catalog.defaultModelFor(task);
  const modelTask = catalog.entry(model).descriptor.task;
  if (modelTask !== task.id)
    throw new BadRequestError('wrong_task', `model '${model}' is a ${modelTask} model, not a ${task.id} one`);
  await catalog.load(model);
  return { task, taskOptions, catalog, model };
}

export async function startStreamWorker(options: StreamWorkerOptions, log: Log): Promise<StreamWorker> {
  const taskModel = await loadTaskModel(options);
  const nc: NatsConnection = await connect({
    servers: options.server,
    name: `tflite-fn stream ${WORKER_ID}`,
  });
  const delivery = options.delivery ?? DEFAULT_DELIVERY;
  const jsm = await nc.jetstreamManager();
  const names = await ensureTopology(jsm, options, delivery);
  const js = nc.jetstream();
  const consumer = await js.consumers.get(names.frames, names.consumer);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const messages = await consumer.consume({ max_messages: concurrency });
  const frames = new WorkerFrames(js, jsm, names, log);
  const broker = { nc, js, frames, framesStream: names.frames, delivery };
  const handler = new FrameHandler(broker, options, taskModel, log);
  const done = consumeAll(messages, concurrency, (message) => handler.handle(message), log);
  log({
    msg: 'consuming',
    server: options.server,
    input: options.input,
    output: options.output,
    model: taskModel.model,
    concurrency,
  });

  return {
    processed: () => handler.processed,
    deadLettered: () => handler.deadLettered,
    done,
    async stop() {
      messages.stop();
      await done;
      await nc.drain();
      await taskModel.catalog.dispose();
    },
  };
}

/** Handles each message, never more than `concurrency` at once; settles when they stop. */
async function consumeAll(
  messages: AsyncIterable<JsMsg>,
  concurrency: number,
  handle: (message: JsMsg) => Promise<void>,
  log: Log,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for await (const message of messages) {
    const job = handle(message).catch((error: unknown) =>
      log({ level: 'error', msg: 'frame handling failed', error: String(error) }),
    );
    inFlight.add(job);
    void job.finally(() => inFlight.delete(job));
    // Never more than `concurrency` frames at once: wait for one to finish before the next.
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** One frame's way through the worker: answered and acknowledged, retried, or dead-lettered. */
class FrameHandler {
  processed = 0;
  deadLettered = 0;

  constructor(
    private readonly broker: {
      readonly nc: NatsConnection;
      readonly js: JetStreamClient;
      readonly frames: WorkerFrames;
      /** The frames stream's name (a frame without an id is named by its sequence in it). */
      readonly framesStream: string;
      readonly delivery: DeliveryPolicy;
    },
    private readonly options: StreamWorkerOptions,
    private readonly taskModel: TaskModel,
    private readonly log: Log,
  ) {}

  private get frames(): WorkerFrames {
    return this.broker.frames;
  }

  async handle(message: JsMsg): Promise<void> {
    const started = performance.now();
    const frameId = message.headers?.get(FRAME_HEADERS.id) || `${this.broker.framesStream}-${message.seq}`;
    // Time the frame waited in the broker: from publish (stream timestamp) to delivery.
    const brokerMs = Math.max(0, Date.now() - message.info.timestampNanos / 1_000_000);
    // A big frame's fetch plus inference on a loaded machine can outlast --ack-wait.
    const heartbeat = keepHolding(message, this.broker.delivery.ackWaitMs);
    let reference: FrameReference | undefined;
    let verified: FrameReference | undefined;
    try {
      reference = this.frames.referenceIn(message);
      const bytes = reference ? await this.frames.fetch(reference) : message.data;
      verified = reference;
      const result = await this.answer(bytes, message, frameId, started, brokerMs);
      const h = headers();
      h.set(FRAME_HEADERS.id, frameId);
      await this.broker.js.publish(this.options.output, JSON.stringify(result), {
        msgID: frameId,
        headers: h,
      });
      this.processed++;
      if (!verified) message.ack();
      // Confirmed, the frame cannot come back: only then may its object go. Unconfirmed, it
      // stays for a redelivery (whose result the results stream de-duplicates), or its TTL.
      else if (await message.ackAck().catch(() => false)) await this.frames.release(verified);
    } catch (error) {
      await this.failed(message, frameId, error, reference, verified);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** A frame that failed: dropped if already answered, dead-lettered if it never can be, else retried. */
  private async failed(
    message: JsMsg,
    frameId: string,
    error: unknown,
    reference: FrameReference | undefined,
    verified: FrameReference | undefined,
  ): Promise<void> {
    if (error instanceof FrameObjectMissingError && !(await this.frames.stillQueued(message))) {
      // Another delivery of this frame was answered and acknowledged (this one came after an
      // ack wait ran out), and its worker deleted the object: nothing is lost.
      this.log({ msg: 'already answered', frameId });
      message.term();
      return;
    }
    const failure = toTfliteFnError(error);
    const permanent = failure.status < 500;
    if (permanent || message.info.deliveryCount >= this.broker.delivery.maxDeliver)
      await this.deadLetter(message, frameId, error, reference, verified);
    else {
      this.log({
        level: 'warn',
        msg: 'retrying',
        frameId,
        delivery: message.info.deliveryCount,
        error: failure.message,
      });
      message.nak(500);
    }
  }

  private async answer(
    bytes: Uint8Array,
    message: JsMsg,
    frameId: string,
    started: number,
    brokerMs: number,
  ): Promise<FrameResult> {
    const { task, taskOptions, model, catalog } = this.taskModel;
    const common = {
      frameId,
      source: message.headers?.get(FRAME_HEADERS.source) ?? '',
      model,
      worker: WORKER_ID,
      delivery: message.info.deliveryCount,
    };
    const result = await runTask(task, bytes, taskOptions, { model, catalog });
    const json = (task.toJson ? task.toJson(result) : result) as Record<string, unknown>;
    const timings = json.timings as Record<string, number>;
    return {
      ...common,
      task: task.id,
      ...json,
      timings: { ...timings, processMs: round(performance.now() - started), brokerMs },
    } as FrameResult;
  }

  /**
   * `reference`: the frame's object, if it had one; `verified`: the same, once fetched and
   * found to be that frame. Only a verified object is deleted: a reference whose digest does
   * not match may name another frame's object.
   */
  private async deadLetter(
    message: JsMsg,
    frameId: string,
    error: unknown,
    reference?: FrameReference,
    verified?: FrameReference,
  ): Promise<void> {
    const failure = toTfliteFnError(error);
    const body = {
      frameId,
      source: message.headers?.get(FRAME_HEADERS.source) ?? '',
      deliveries: message.info.deliveryCount,
      ...(reference ? { object: { bucket: reference.bucket, name: reference.name } } : {}),
      error: { status: failure.status, code: failure.code, message: failure.message },
    };
    const h = headers();
    h.set(FRAME_HEADERS.id, frameId);
    await this.broker.js.publish(this.options.deadLetter, JSON.stringify(body), {
      msgID: `dead-${frameId}`,
      headers: h,
    });
    message.term();
    this.deadLettered++;
    this.log({ level: 'warn', msg: 'dead-lettered', frameId, code: failure.code, error: failure.message });
    // The frame will not be delivered again: its object is no use to anyone. The flush makes
    // sure the server has the term before the object goes (else a redelivery would find it
    // missing — and be dead-lettered again under the same message id, which adds nothing).
    if (verified) {
      await this.broker.nc.flush();
      await this.frames.release(verified);
    }
  }
}

/**
 * Tells the broker the frame is still being worked on (so it is not handed to another worker
 * while this one fetches and processes it), every third of the ack wait — for three ack waits
 * at most: a worker stuck on one frame must still lose it to another.
 */
function keepHolding(message: JsMsg, ackWaitMs: number): NodeJS.Timeout {
  let beats = 0;
  const timer = setInterval(
    () => {
      beats++;
      if (beats > 9) clearInterval(timer);
      else message.working();
    },
    Math.max(100, ackWaitMs / 3),
  );
  return timer;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
