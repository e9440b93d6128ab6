/** Messages between the server and its worker processes (structured-clone IPC). */
import type { Classification, ClassifyOptions } from '../../src/classify.js';
import type { AnnotatedFormat } from '../../src/detect/annotate.js';
import type { Detections } from '../../src/detect/detect.js';

export type JobMessage =
  | {
      readonly type: 'classify';
      readonly id: number;
      readonly image: Uint8Array;
      readonly options: Pick<ClassifyOptions, 'model' | 'top' | 'resize'>;
    }
  | {
      readonly type: 'detect';
      readonly id: number;
      readonly image: Uint8Array;
      readonly options: {
        model?: string | undefined;
        tiling?: boolean | undefined;
        annotate?: AnnotatedFormat | undefined;
      };
    };

export type JobResult = Classification | { detections: Detections; image?: Uint8Array | undefined };

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

/** The answer to one job, matched by its id. */
export type ReplyMessage =
  | { readonly type: 'result'; readonly id: number; readonly result: JobResult }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError };

export type WorkerMessage = ReadyMessage | FailedMessage | ReplyMessage;
