/**
 * classify: one label per photo, best first, with the classic WasmEdge sentence. The task's
 * descriptor section is `output:` (labels, label offset, top_k, activation).
 */
import { toPlainText } from '../../output/format.js';
import type { Task } from '../task.js';
import { type ClassifyState, checkClassifier } from './check.js';
import { type ClassifyTaskOptions, parseResize, parseTop } from './options.js';
import type { Classification } from './result.js';
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
  // Loaded on first use: see the note in src/tasks/index.ts.
  infer: async (context, options) => (await import('./infer.js')).classifyPhoto(context, options),
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
