/** Messages between the server and its worker processes (structured-clone IPC). */
import type { Classification, ClassifyOptions } from '../../src/classify.js';

export interface JobMessage {
  readonly type: 'classify';
  readonly id: number;
  readonly image: Uint8Array;
  readonly options: Pick<ClassifyOptions, 'model' | 'top' | 'resize'>;
}

export interface SerializedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly expose: boolean;
}

export type WorkerMessage =
  | {
      readonly type: 'ready';
      readonly loadMs: Record<string, number>;
      readonly warmUpMs: Record<string, number>;
    }
  | { readonly type: 'failed'; readonly error: SerializedError }
  | { readonly type: 'result'; readonly id: number; readonly result: Classification }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError };
