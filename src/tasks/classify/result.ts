/** What classify answers (public API: the JSON shape the README documents). */
import type { ResizeMode } from '../../image/layout.js';
import type { TaskResultBase } from '../task.js';

export interface Prediction {
  readonly label: string;
  /** Index in the model's output vector. */
  readonly index: number;
  /** In [0, 1]: value / 255 for uint8 outputs, the (activated) value for float outputs. */
  readonly score: number;
}

export interface Classification extends Prediction, TaskResultBase {
  /** The classic WasmEdge sentence (HTML with a search link), without a newline. */
  readonly sentence: string;
  readonly top: readonly Prediction[];
  readonly resize: ResizeMode;
}
