/**
 * classify: one label per photo, best first, with the classic WasmEdge sentence. The task's
 * descriptor section is `output:` (labels, label offset, top_k, activation).
 */
import type { TensorData } from '../../engine/types.js';
import { resizeToRgb, rgbToTensor } from '../../image/to-tensor.js';
import { toPlainText } from '../../output/format.js';
import { classicSentence } from '../../output/sentence.js';
import type { Task } from '../task.js';
import { type ClassifyState, checkClassifier } from './check.js';
import { type ClassifyTaskOptions, parseResize, parseTop } from './options.js';
import type { Classification, Prediction } from './result.js';
import { topPredictions, toScores } from './scores.js';
import { outputOf, outputSchema } from './section.js';

export const classifyTask: Task<ClassifyTaskOptions, Classification, ClassifyState> = {
  id: 'classify',
  summary: 'what is in the photo: labels with scores, best first, and the classic sentence',
  defaultModel: 'imagenet',
  // Its JSON over HTTP has always said what arrived (received: bytes, sha256).
  receipt: true,
  section: { key: 'output', schema: outputSchema },
  labelsOf: (descriptor) => outputOf(descriptor).labels,
  scoresOutput: (descriptor) => outputOf(descriptor).name,
  prepareModel: checkClassifier,
  parseOptions: (raw) => ({ top: parseTop(raw.top), resize: parseResize(raw.resize) }),
  async infer({ photo, model, run, preparing }, options) {
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
  },
  text: toPlainText,
  html: (result) => result.sentence,
  cli: {
    flags: [
      {
        flag: 'top',
        option: 'top',
        short: 'k',
        value: 'K',
        help: "how many labels to return (default: the model's top_k)",
      },
      {
        flag: 'resize',
        option: 'resize',
        short: 'r',
        value: 'MODE',
        help: 'cover (centre crop, default) or fill (stretch, as WasmEdge does)',
      },
    ],
    defaultFormat: 'html',
  },
};
