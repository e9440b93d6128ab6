/**
 * pose: where a person's 17 COCO keypoints are (nose, eyes, ears, shoulders, elbows, wrists,
 * hips, knees, ankles), with MoveNet single-pose models. One person per photo: MoveNet
 * single-pose follows the most prominent person near the centre.
 */
import type * as Zod from 'zod';
import { ModelLoadError } from '../../errors.js';
import type { ModelDescriptor } from '../../model/descriptor.js';
import { numberOption } from '../option-values.js';
import { annotatedPhotoPictures } from '../pictures.js';
import type { InferContext, ModelParts, RawOptions, Task, TaskResultBase } from '../task.js';
import { COCO_KEYPOINTS, decodeKeypoints, type Keypoint, poseScore } from './keypoints.js';

export { COCO_KEYPOINTS, COCO_SKELETON, type Keypoint, type KeypointName } from './keypoints.js';

export interface PoseOptions {
  /** Keypoints scoring below this are not drawn nor counted; default: the descriptor's. */
  readonly threshold?: number | undefined;
}

export interface PoseResult extends TaskResultBase {
  /** Mean keypoint score: MoveNet gives no pose score of its own. */
  readonly score: number;
  readonly threshold: number;
  /** How many keypoints score at least `threshold`. */
  readonly found: number;
  /** All 17, in COCO order, in the upright photo's pixels. */
  readonly keypoints: readonly Keypoint[];
}

interface PoseState {
  readonly outputIndex: number;
  readonly threshold: number;
}

function sectionSchema(z: typeof Zod.z) {
  return z.strictObject({
    /** The keypoints output ([1, 1, 17, 3] float32); default: the model's only output. */
    output: z.string().optional(),
    /** Default for the `threshold` option. */
    threshold: z.number().min(0).max(1).default(0.3),
  });
}

type PoseSection = Zod.output<ReturnType<typeof sectionSchema>>;

function sectionOf(descriptor: ModelDescriptor): PoseSection {
  return (descriptor as unknown as { pose: PoseSection }).pose;
}

function prepareModel({ descriptor, engine }: ModelParts): PoseState {
  const section = sectionOf(descriptor);
  const outputs = engine.outputs;
  const outputIndex =
    section.output === undefined
      ? outputs.length === 1
        ? 0
        : -1
      : outputs.findIndex((output) => output.name === section.output);
  const output = outputs[outputIndex];
  const names = outputs.map((o) => o.name).join(', ');
  if (!output) {
    throw new ModelLoadError(
      `${descriptor.id}: pose.output ${section.output === undefined ? 'must name one of several outputs' : `'${section.output}' is not an output`} of the model (outputs: ${names})`,
    );
  }
  const [, , count, triple] = output.shape;
  if (
    output.dtype !== 'float32' ||
    output.shape.length !== 4 ||
    count !== COCO_KEYPOINTS.length ||
    triple !== 3
  ) {
    throw new ModelLoadError(
      `${descriptor.id}: output '${output.name}' is ${output.dtype} [${output.shape.join(', ')}]; a single-pose model answers float32 [1, 1, ${COCO_KEYPOINTS.length}, 3] (y, x, score per COCO keypoint)`,
    );
  }
  return { outputIndex, threshold: section.threshold };
}

export function parseThreshold(value: unknown): number | undefined {
  return numberOption(value, 'threshold', { min: 0, max: 1 });
}

async function infer(
  context: InferContext<PoseState>,
  options: PoseOptions,
): Promise<Omit<PoseResult, keyof TaskResultBase>> {
  const { photo, model } = context;
  // Image code loads on first use (see src/tasks/index.ts).
  const [{ letterboxPhoto }, { rgbToTensor }] = await Promise.all([
    import('./letterbox-photo.js'),
    import('../../image/to-tensor.js'),
  ]);
  const input = { width: model.layout.width, height: model.layout.height };
  const { tensor, box } = await context.preparing(async () => {
    const { rgb, box } = await letterboxPhoto(photo, input);
    return { tensor: rgbToTensor(rgb, model.layout), box };
  });
  const outputs = await context.run(tensor);
  const keypoints = decodeKeypoints(outputs[model.state.outputIndex] as Float32Array, input, box, {
    width: photo.uprightWidth,
    height: photo.uprightHeight,
  });
  const threshold = options.threshold ?? model.state.threshold;
  return {
    score: poseScore(keypoints),
    threshold,
    found: keypoints.filter((k) => k.score >= threshold).length,
    keypoints,
  };
}

/** The skeleton drawn over the photo; the drawing code loads on first use. */
async function drawn(image: Uint8Array, result: PoseResult, format: 'jpeg' | 'png'): Promise<Uint8Array> {
  return (await import('./skeleton.js')).drawPose(image, result, format);
}

function text(result: PoseResult): string {
  const shown = result.keypoints.filter((k) => k.score >= result.threshold);
  const width = Math.max(0, ...shown.map((k) => k.name.length));
  return [
    `pose score ${result.score.toFixed(2)}: ${result.found} of ${result.keypoints.length} keypoints score at least ${result.threshold}`,
    ...shown.map((k) => `  ${k.name.padEnd(width)}  x ${k.x}  y ${k.y}  (${k.score.toFixed(2)})`),
  ].join('\n');
}

export const poseTask: Task<PoseOptions, PoseResult, PoseState> = {
  id: 'pose',
  summary: "a person's 17 body keypoints (COCO: nose to ankles) in the photo's pixels, with scores",
  defaultModel: 'movenet',
  section: { key: 'pose', schema: sectionSchema },
  prepareModel,
  parseOptions: (raw: RawOptions): PoseOptions => ({ threshold: parseThreshold(raw.threshold) }),
  infer,
  text,
  pictures: annotatedPhotoPictures('the photo with the skeleton drawn over it', drawn),
  cli: {
    flags: [
      {
        flag: 'threshold',
        option: 'threshold',
        value: 'S',
        help: "lowest keypoint score (0-1) to count and draw (default: the model's, 0.3 for movenet)",
      },
    ],
    defaultFormat: 'text',
  },
};
