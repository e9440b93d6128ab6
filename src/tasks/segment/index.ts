/**
 * segment: which class every pixel of the photo belongs to (DeepLab v3, PASCAL VOC's 21
 * classes) or whether it is the person (MediaPipe selfie segmentation); the share of each
 * class; pictures: the mask, the cut-out (background transparent) and an overlay.
 * Descriptor section `segment:`.
 */
import type { Task } from '../task.js';
import type { SegmentState } from './check.js';
import { parseSegmentOptions, type SegmentOptions } from './options.js';
import { SEGMENT_PICTURES } from './pictures.js';
import { type Segmentation, segmentationJson } from './result.js';
import { segmentSchema, segmentSectionOf } from './section.js';

export type { ClassShare } from './masks.js';
export type { SegmentOptions } from './options.js';
export type { MaskKind, Segmentation } from './result.js';

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function segmentationText(result: Segmentation): string {
  const { mask, foreground } = result;
  // Name the kept classes when they are few (a `keep` choice, or selfie's person), not all 20.
  const which = foreground.classes.length <= 3 ? ` (${foreground.classes.join(', ')})` : '';
  return [
    `${mask.width}x${mask.height} mask; the cut-out keeps ${percent(foreground.fraction)} of the photo${which}`,
    ...result.classes.map((share) => `${percent(share.fraction).padStart(6)}  ${share.label}`),
  ].join('\n');
}

export const segmentTask: Task<SegmentOptions, Segmentation, SegmentState> = {
  id: 'segment',
  summary: 'the class of every pixel: class shares, and the mask, cut-out (background removed) or overlay',
  defaultModel: 'deeplab',
  section: { key: 'segment', schema: segmentSchema },
  labelsOf: (descriptor) => segmentSectionOf(descriptor).labels,
  // The model check (its upsampling arithmetic) loads on first use (see src/tasks/index.ts).
  prepareModel: async (parts) => (await import('./check.js')).checkSegmenter(parts),
  parseOptions: parseSegmentOptions,
  // Image code loads on first use (see src/tasks/index.ts).
  infer: async (context, options) => (await import('./infer.js')).segmentPhoto(context, options),
  toJson: segmentationJson,
  text: segmentationText,
  pictures: SEGMENT_PICTURES,
  cli: {
    flags: [
      {
        flag: 'threshold',
        option: 'threshold',
        value: 'P',
        help: "probability (0-1) a pixel needs to be foreground, for one-class models like selfie (default: the model's, 0.5)",
      },
      {
        flag: 'keep',
        option: 'keep',
        value: 'CLASSES',
        help: 'classes the cut-out keeps, comma-separated (default: all but the background), e.g. person,dog',
      },
    ],
    defaultFormat: 'text',
  },
};
