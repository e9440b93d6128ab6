/** detect's load-time check: the outputs the descriptor names exist and match its anchors. */
import type { TensorInfo } from '../../engine/types.js';
import { ModelLoadError } from '../../errors.js';
import type { ModelParts } from '../task.js';
import { type Anchor, generateAnchors } from './anchors.js';
import { detectSectionOf } from './section.js';

export interface DetectState {
  readonly anchors: readonly Anchor[];
  readonly regressorsIndex: number;
  readonly scoresIndex: number;
}

function outputIndex(outputs: readonly TensorInfo[], name: string, id: string): number {
  const index = outputs.findIndex((o) => o.name === name);
  if (index < 0) {
    throw new ModelLoadError(
      `model '${id}' has no output '${name}'; its outputs are ${outputs.map((o) => `'${o.name}'`).join(', ')}`,
    );
  }
  return index;
}

export function checkDetector({ descriptor, engine }: ModelParts): DetectState {
  const id = descriptor.id;
  const { width, height, format } = descriptor.input;
  if (!format.endsWith('32f')) {
    throw new ModelLoadError(
      `model '${id}': a detect model takes float input; the descriptor says ${format}`,
    );
  }
  const spec = detectSectionOf(descriptor);
  const regressorsIndex = outputIndex(engine.outputs, spec.regressors, id);
  const scoresIndex = outputIndex(engine.outputs, spec.scores, id);
  const anchors = generateAnchors(spec.anchors, width, height);
  const regressors = engine.outputs[regressorsIndex] as TensorInfo;
  const scores = engine.outputs[scoresIndex] as TensorInfo;
  const boxes = regressors.shape[1] ?? 0;
  if (
    boxes !== anchors.length ||
    (scores.shape[1] ?? 0) !== anchors.length ||
    (regressors.shape[2] ?? 0) < 4 + 2 * spec.keypoints
  ) {
    throw new ModelLoadError(
      `model '${id}' predicts ${boxes} boxes of ${regressors.shape[2]} values; the anchor settings give ${anchors.length} anchors and ${spec.keypoints} keypoints need ${4 + 2 * spec.keypoints} values`,
    );
  }
  return { anchors, regressorsIndex, scoresIndex };
}
