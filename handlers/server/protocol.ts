/** Messages between the server and its worker processes (structured-clone IPC). */
import type { BatchCounts } from '../../src/batch/batcher.js';
import type { TensorData } from '../../src/engine/types.js';
import type { TaskJob, TaskOutcome } from '../../src/http/task-job.js';
import type { ModelSignature } from '../../src/oip/tensor-runner.js';

/**
 * One task job (src/http/task-job.ts): the task by id, its checked options, the model, and
 * the picture to draw if one is wanted. Any task: the worker looks it up in TASKS.
 */
export interface JobMessage extends Omit<TaskJob, 'image'> {
  readonly type: 'job';
  readonly id: number;
  /** The image; empty when it came ahead in PieceMessages (then `chunked` is set). */
  readonly image: Uint8Array;
  readonly chunked?: true;
}

/**
 * A piece of a large job's payload (a task's image, or a /v2 job's input tensor), sent ahead of
 * the job itself (job-pieces.ts): the channel to a child process copies every message whole (it
 * has no transfer list), so one big message would hold the server's event loop while it is
 * copied (~0.7 ms per MB) and the channel while it is written, and every job behind it would wait.
 */
export interface PieceMessage {
  readonly type: 'chunk';
  readonly id: number;
  /** Which payload: the job's image, or the input tensor at that index. */
  readonly part: 'image' | number;
  /** The whole payload's length in bytes. */
  readonly total: number;
  readonly bytes: Uint8Array;
}

/**
 * An Open Inference Protocol job (src/oip/tensor-runner.ts) on the version of a model the
 * server resolved (its ModelSource: the repository when it has one, else the catalog):
 * 'describe' asks for the model's signature, 'tensors' runs it on inputs the server has read,
 * sized and checked against that signature, in the model's input order.
 */
export type TensorJobMessage = {
  readonly id: number;
  readonly model: string;
  readonly modelVersion: string;
} & (
  | {
      readonly type: 'describe';
      /**
       * The content the server checked (ResolvedModel.contentKey): the worker describes that,
       * looking at the folder again if its own polls have not caught up with it yet.
       */
      readonly contentKey?: string;
    }
  | {
      readonly type: 'tensors';
      /** Those that came ahead in PieceMessages are empty here, of their type (then `chunked` is set). */
      readonly inputs: TensorData[];
      readonly chunked?: true;
    }
);

/**
 * The repository API's unload, sent to every worker (the server's process holds no copy): the
 * worker frees its copies of the model once their requests are done, and answers how many
 * versions had one.
 */
export interface UnloadMessage {
  readonly type: 'unload';
  readonly id: number;
  readonly model: string;
}

/** Any job a worker runs and answers with one ReplyMessage. */
export type AnyJobMessage = JobMessage | TensorJobMessage | UnloadMessage;

/** What the server sends a worker. */
export type ServerMessage = AnyJobMessage | PieceMessage;

export type JobResult = TaskOutcome;

/** A job's result, by its kind: a task's outcome, a model's signature, or its raw outputs. */
export type WorkerResult = JobResult | ModelSignature | TensorData[] | number;

export interface SerializedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly expose: boolean;
}

/** A worker's first message once its models are loaded and warmed: it now takes jobs. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly loadMs: Record<string, number>;
  readonly warmUpMs: Record<string, number>;
  /** Which engine each preloaded model runs on, and why. */
  readonly engines: Record<string, { readonly engine: string; readonly reason: string }>;
}

/**
 * Sent instead of 'ready' when the models cannot be loaded; the worker exits right after,
 * once the message is written, so the server can say why.
 */
export interface FailedMessage {
  readonly type: 'failed';
  readonly error: SerializedError;
}

/**
 * The answer to one job, matched by its id, with the worker's batch counts so far (present when
 * it batches; src/batch) for the server's /metrics.
 */
export type ReplyMessage = (
  | { readonly type: 'result'; readonly id: number; readonly result: WorkerResult }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError }
) & { readonly batching?: BatchCounts };

export type WorkerMessage = ReadyMessage | FailedMessage | ReplyMessage;
