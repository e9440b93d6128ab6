/**
 * segment's load-time check: the output the descriptor names is a per-pixel map the task can
 * read, and the class names fit it. What inference needs is kept as the model's state.
 */
import type { TensorInfo } from '../../engine/types.js';
import { ModelLoadError } from '../../errors.js';
import { pickTensor } from '../../model/pick-tensor.js';
import type { ModelParts } from '../task.js';
import type { MaskKind } from './result.js';
import { segmentSectionOf, type UpsampleMode } from './section.js';
import { type Upsampling, upsamplingFor } from './upsample.js';

export interface SegmentState {
  readonly outputIndex: number;
  readonly kind: MaskKind;
  /** The mask's size: the output's height and width. */
  readonly width: number;
  readonly height: number;
  /** Score channels (class models) or 1 (probability models). */
  readonly channels: number;
  /** Class i's name; probability models have two: background and foreground. */
  readonly classes: readonly string[];
  readonly background: number;
  /** The descriptor's default threshold (probability models). */
  readonly threshold: number;
  /** How the output becomes the mask's class scores, when the task upsamples it (upsample). */
  readonly upsampling?: Upsampling;
}

/** [1, H, W, C] or [1, H, W]: height, width and channels. */
function maskShape(info: TensorInfo, id: string): { height: number; width: number; channels: number } {
  const [batch, height, width, channels = 1, ...rest] = info.shape;
  const ok =
    batch === 1 &&
    rest.length === 0 &&
    height !== undefined &&
    width !== undefined &&
    height > 0 &&
    width > 0;
  if (!ok || channels < 1 || channels > 256 || (info.dtype !== 'uint8' && info.dtype !== 'float32')) {
    throw new ModelLoadError(
      `model '${id}': output '${info.name}' is ${info.dtype} [${info.shape.join(', ')}]; a segment model's output is uint8 or float32 [1, height, width, classes] with 1 to 256 classes`,
    );
  }
  return { height, width, channels };
}

/**
 * The class names the output needs: one per channel, or background + foreground for one
 * channel. A labels file may go on after them (the upstream PASCAL file ends with a note);
 * an inline list must match exactly, since a longer one is a mistake.
 */
function classNames(names: readonly string[], inline: boolean, channels: number, id: string): string[] {
  const needed = channels === 1 ? 2 : channels;
  const classes = names.slice(0, needed);
  if (
    (inline && names.length !== needed) ||
    classes.length < needed ||
    classes.some((name) => name.trim() === '')
  ) {
    throw new ModelLoadError(
      `model '${id}' has ${channels === 1 ? 'a one-channel (probability) output, which needs 2 class names (background, foreground)' : `${channels} classes`}; its descriptor names ${inline ? names.length : classes.filter((name) => name.trim() !== '').length}`,
    );
  }
  return classes.map((name) => name.trim());
}

/** The task's upsampling of the output to the input size, for a uint8 class-score output. */
function upsamplingOf(
  output: TensorInfo,
  scores: { height: number; width: number; channels: number },
  descriptor: ModelParts['descriptor'],
  mode: UpsampleMode,
): Upsampling {
  const id = descriptor.id;
  if (scores.channels === 1 || output.dtype !== 'uint8') {
    throw new ModelLoadError(
      `model '${id}': upsample applies to uint8 class scores (LiteRT's uint8 RESIZE_BILINEAR), not to ${scores.channels === 1 ? 'a one-channel probability' : `${output.dtype} '${output.name}'`}`,
    );
  }
  try {
    return upsamplingFor(scores, descriptor.input, mode);
  } catch (cause) {
    throw new ModelLoadError(`model '${id}': upsample ${mode}: ${(cause as Error).message}`, { cause });
  }
}

export function checkSegmenter({ descriptor, engine, labels }: ModelParts): SegmentState {
  const id = descriptor.id;
  if (descriptor.input.resize !== 'fill') {
    // The mask is stretched back over the whole photo; a centre crop would leave the rest unmasked.
    throw new ModelLoadError(
      `model '${id}': a segment model needs input.resize: fill (the mask covers the whole photo)`,
    );
  }
  const section = segmentSectionOf(descriptor);
  const outputIndex = pickTensor(engine.outputs, section.output, 'output', id);
  const output = engine.outputs[outputIndex] as TensorInfo;
  const scores = maskShape(output, id);
  const channels = scores.channels;
  const upsampling =
    section.upsample === 'none' ? undefined : upsamplingOf(output, scores, descriptor, section.upsample);
  // The mask is the upsampled size when the task upsamples.
  const height = upsampling ? upsampling.rows.low.length : scores.height;
  const width = upsampling ? upsampling.columns.low.length : scores.width;
  const classes = classNames(section.classes ?? labels, section.classes !== undefined, channels, id);
  const background = classes.indexOf(section.background);
  if (background < 0) {
    throw new ModelLoadError(
      `model '${id}': its background class '${section.background}' is not one of its classes (${classes.join(', ')})`,
    );
  }
  const kind: MaskKind = channels === 1 ? 'probability' : 'classes';
  if (kind === 'probability' && background !== 0) {
    // The output is the probability of class 1; class 0 is what is left.
    throw new ModelLoadError(
      `model '${id}': a one-channel model's first class is the background ('${section.background}' is not)`,
    );
  }
  return {
    outputIndex,
    kind,
    width,
    height,
    channels,
    classes,
    background,
    threshold: section.threshold,
    ...(upsampling && { upsampling }),
  };
}
