/**
 * detect: the faces in a photo (BlazeFace), with boxes, scores and landmarks in the photo's
 * upright pixels; pictures: the photo with the faces boxed. Descriptor section `detect:`.
 */
import { BadRequestError, shown } from '../../errors.js';
import { absent } from '../option-values.js';
import { annotatedPhotoPictures } from '../pictures.js';
import type { RawOptions, Task } from '../task.js';
import type { AnnotatedFormat } from './annotate.js';
import type { DetectState } from './check.js';
import type { Detections, DetectTaskOptions } from './result.js';
import { detectSchema, detectSectionOf } from './section.js';

/** `tiling`: true/false (JSON), 'true'/'false' (query, CLI); absent means true. */
function parseTiling(raw: RawOptions): boolean | undefined {
  const value = raw.tiling;
  if (absent(value)) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new BadRequestError('bad_option', `tiling must be true or false, got '${shown(value)}'`);
}

/** The annotated photo; the drawing code loads on first use (see src/tasks/index.ts). */
async function annotated(
  image: Uint8Array,
  result: Detections,
  format: AnnotatedFormat,
): Promise<Uint8Array> {
  return (await import('./annotate.js')).annotate(image, result, format);
}

function plural(count: number): string {
  return `${count} ${count === 1 ? 'face' : 'faces'}`;
}

export const detectTask: Task<DetectTaskOptions, Detections, DetectState> = {
  id: 'detect',
  summary: 'the faces in the photo: boxes, scores and landmarks; or the photo with them boxed',
  defaultModel: 'faces',
  section: { key: 'detect', schema: detectSchema },
  scoresOutput: (descriptor) => detectSectionOf(descriptor).scores,
  prepareModel: async (parts) => (await import('./check.js')).checkDetector(parts),
  parseOptions: (raw) => ({ tiling: parseTiling(raw) }),
  infer: async (context, options) => (await import('./infer.js')).findFaces(context, options),
  text: (result) =>
    [
      plural(result.faces.length),
      ...result.faces.map(
        (f) => `${f.score.toFixed(3)}  ${f.box.x},${f.box.y} ${f.box.width}x${f.box.height}`,
      ),
    ].join('\n'),
  pictures: annotatedPhotoPictures(
    'the photo with a box around every face and dots on its landmarks',
    annotated,
  ),
  cli: {
    flags: [{ flag: 'no-tiling', option: 'tiling', help: 'look at the photo whole only, not tile by tile' }],
    defaultFormat: 'jpeg',
  },
};
