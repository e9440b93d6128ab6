/**
 * Reads, from an SSD model file itself, everything its post-processing needs: which tensors
 * feed TFLite_Detection_PostProcess (box encodings, class scores, anchors), how those are
 * quantized, the anchors' values, and the operator's custom options (scales, thresholds,
 * counts, which NMS). Nothing the model states is hard-coded here; where the operator's
 * options leave a value out, TFLite's kernel default applies (named below).
 *
 * A model whose operator or options are missing, of the wrong type or out of range is refused
 * with a ModelLoadError naming the model and the value: at load, never per request.
 */

import { ModelLoadError } from '../../errors.js';
import { type CustomOptions, ModelConstants, realValues } from '../../tflite/constants.js';
import { readTfliteModel, withModelErrors } from '../../tflite/read.js';
import { tensorTypeName } from '../../tflite/schema.js';
import type { PostProcessSettings } from './post-process.js';

export const POST_PROCESS_OP = 'TFLite_Detection_PostProcess';

/**
 * TFLite's defaults for options the kernel reads only when present (detection_postprocess.cc:
 * kNumDetectionsPerClass, and use_regular_nms read as false when absent).
 */
const KERNEL_DEFAULTS = { detectionsPerClass: 100, useRegularNms: false } as const;

/** Per-tensor affine quantization: real = (stored - zeroPoint) * scale. */
export interface AffineQuantization {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** One input of the operator, as the cut model gives it back as an output. */
export interface PostProcessInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly quantization?: AffineQuantization;
}

export interface SsdModelFacts {
  readonly settings: PostProcessSettings;
  /** [1, anchors, 4 or more]: y, x, h, w (then keypoints, unused here). */
  readonly boxes: PostProcessInput;
  /** [1, anchors, classes with background]. */
  readonly scores: PostProcessInput;
}

function positive(options: CustomOptions, key: string, what: string): number {
  const value = options.number(key);
  if (!(value > 0)) throw new ModelLoadError(`${what}: '${key}' is ${value}; it must be above 0`);
  return value;
}

function atLeastOne(options: CustomOptions, key: string, what: string, fallback?: number): number {
  const value = fallback !== undefined && !options.has(key) ? fallback : options.integer(key);
  if (value < 1) throw new ModelLoadError(`${what}: '${key}' is ${value}; it must be at least 1`);
  return value;
}

/** The operator's options, checked: what TFLite's kernel would divide by or loop over. */
function readOptions(options: CustomOptions, what: string): Omit<PostProcessSettings, 'anchors'> {
  const iouThreshold = options.number('nms_iou_threshold');
  if (!(iouThreshold > 0 && iouThreshold <= 1)) {
    throw new ModelLoadError(`${what}: 'nms_iou_threshold' is ${iouThreshold}; it must be in (0, 1]`);
  }
  return {
    scales: {
      y: positive(options, 'y_scale', what),
      x: positive(options, 'x_scale', what),
      h: positive(options, 'h_scale', what),
      w: positive(options, 'w_scale', what),
    },
    numClasses: atLeastOne(options, 'num_classes', what),
    maxDetections: atLeastOne(options, 'max_detections', what),
    maxClassesPerDetection: atLeastOne(options, 'max_classes_per_detection', what),
    detectionsPerClass: atLeastOne(options, 'detections_per_class', what, KERNEL_DEFAULTS.detectionsPerClass),
    useRegularNms: options.has('use_regular_nms')
      ? options.boolean('use_regular_nms')
      : KERNEL_DEFAULTS.useRegularNms,
    scoreThreshold: options.number('nms_score_threshold'),
    iouThreshold,
  };
}

/** The names, shapes and quantization of the operator's three inputs, from the graph. */
function operatorInputs(bytes: Uint8Array, label: string): [PostProcessInput, PostProcessInput, string] {
  const model = readTfliteModel(bytes, label);
  return withModelErrors(label, () => {
    const subgraph = model.subgraphs[0];
    const codes = model.operatorCodes;
    const operator = subgraph?.operators.find((op) => codes[op.opcodeIndex]?.customCode === POST_PROCESS_OP);
    if (!subgraph || !operator) throw new ModelLoadError(`${label} has no ${POST_PROCESS_OP} operator`);
    const tensors = subgraph.tensors;
    const inputs = operator.inputs.map((index) => tensors[index]);
    const [boxes, scores, anchors] = inputs;
    if (inputs.length !== 3 || !boxes || !scores || !anchors) {
      throw new ModelLoadError(`${label}'s ${POST_PROCESS_OP} has ${inputs.length} inputs; expected 3`);
    }
    const describe = (tensor: typeof boxes): PostProcessInput => {
      const q = tensor.quantization;
      const scale = q?.scale ?? [];
      if (scale.length > 1) {
        throw new ModelLoadError(`${label}: '${tensor.name}' is quantized per channel; expected one scale`);
      }
      const quantization =
        scale.length === 1 ? { scale: scale[0] as number, zeroPoint: q?.zeroPoint[0] ?? 0 } : undefined;
      if (quantization === undefined && tensorTypeName(tensor.type) !== 'FLOAT32') {
        throw new ModelLoadError(
          `${label}: '${tensor.name}' is ${tensorTypeName(tensor.type)} without a scale`,
        );
      }
      return { name: tensor.name, shape: tensor.shape, ...(quantization && { quantization }) };
    };
    return [describe(boxes), describe(scores), anchors.name];
  });
}

/** Everything the objects task needs from the original (uncut) SSD model file. */
export function readSsdModel(bytes: Uint8Array, label: string): SsdModelFacts {
  const [boxes, scores, anchorsName] = operatorInputs(bytes, label);
  const constants = ModelConstants.open(bytes, label);
  const what = `the options of ${POST_PROCESS_OP} in ${label}`;
  const options = readOptions(constants.customOptions(POST_PROCESS_OP), what);

  const anchorTensor = constants.tensor(anchorsName);
  const anchorCount = anchorTensor.shape[0] ?? 0;
  if (anchorTensor.shape.length !== 2 || anchorTensor.shape[1] !== 4 || anchorCount < 1) {
    throw new ModelLoadError(
      `${label}: anchors '${anchorsName}' have shape [${anchorTensor.shape.join(', ')}]; expected [anchors, 4]`,
    );
  }
  const [, boxAnchors, coordinates = 0] = boxes.shape;
  const [, scoreAnchors, columns = 0] = scores.shape;
  if (boxes.shape.length !== 3 || boxAnchors !== anchorCount || coordinates < 4) {
    throw new ModelLoadError(
      `${label}: box encodings '${boxes.name}' have shape [${boxes.shape.join(', ')}]; expected [1, ${anchorCount}, 4 or more]`,
    );
  }
  if (scores.shape.length !== 3 || scoreAnchors !== anchorCount || columns < options.numClasses) {
    throw new ModelLoadError(
      `${label}: class scores '${scores.name}' have shape [${scores.shape.join(', ')}]; expected [1, ${anchorCount}, ${options.numClasses} or more]`,
    );
  }
  return { settings: { ...options, anchors: realValues(anchorTensor) }, boxes, scores };
}
