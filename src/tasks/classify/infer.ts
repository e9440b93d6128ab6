/** classify's work on a photo: fitted to the model input, run, scores labelled best first. */
import type { TensorData } from '../../engine/types.js';
import { resizeToRgb, rgbToTensor } from '../../image/to-tensor.js';
import { classicSentence } from '../../output/sentence.js';
import type { InferContext, TaskResultBase } from '../task.js';
import type { ClassifyState } from './check.js';
import type { ClassifyTaskOptions } from './options.js';
import type { Classification, Prediction } from './result.js';
import { topPredictions, toScores } from './scores.js';
import { outputOf } from './section.js';

export async function classifyPhoto(
  { photo, model, run, preparing }: InferContext<ClassifyState>,
  options: ClassifyTaskOptions,
): Promise<Omit<Classification, keyof TaskResultBase>> {
  const { width, height, resize: defaultResize } = model.descriptor.input;
  const resize = options.resize ?? defaultResize;
  const input = await preparing(async () =>
    rgbToTensor(await resizeToRgb(photo, width, height, resize), model.layout),
  );
  const outputs = await run(input);
  const section = outputOf(model.descriptor);
  const scores = toScores(outputs[model.state.outputIndex] as TensorData, section.activation);
  const top = topPredictions(scores, model.labels, section.label_offset, options.top ?? section.top_k);
  const best = top[0] as Prediction;
  return {
    label: best.label,
    index: best.index,
    score: best.score,
    sentence: classicSentence(best.label, scores[best.index] as number, model.descriptor.wording),
    top,
    resize,
  };
}
