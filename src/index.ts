/** tflite-fn: run TensorFlow Lite vision models on image bytes, anywhere Node runs. */
export {
  type Classification,
  type ClassifyOptions,
  classify,
  type Prediction,
  parseResize,
  parseTop,
} from './classify.js';
export {
  type AnnotatedFormat,
  annotate,
  DEFAULT_DETECT_MODEL,
  type Detections,
  type DetectOptions,
  detect,
  type Face,
} from './detect.js';
export type { CompiledModel, TensorData, TensorInfo } from './engine/types.js';
export {
  BadRequestError,
  DescriptorError,
  ModelLoadError,
  TfliteFnError,
  TooLargeError,
  toTfliteFnError,
  UnavailableError,
  UnknownModelError,
  UnsupportedImageError,
} from './errors.js';
export { defaultImageLimits, type ImageLimits } from './image/decode.js';
export { RESIZE_MODES, type ResizeMode } from './image/to-tensor.js';
export {
  BUILTIN_DEFAULT_MODEL,
  type CatalogEntry,
  type CatalogOptions,
  defaultCatalog,
  ModelCatalog,
} from './model/catalog.js';
export { type ModelDescriptor, parseDescriptor, readDescriptor } from './model/descriptor.js';
export { OUTPUT_FORMATS, type OutputFormat, render, toPlainText } from './output/format.js';
export { classicSentence } from './output/sentence.js';
export { type SetupReport, setup } from './store/setup.js';
export { cosineSimilarity, type EmbedResult, embedTask } from './tasks/embed/index.js';
export { type AnyTask, TASKS, taskById } from './tasks/index.js';
export {
  type DetectedObject,
  type ObjectBox,
  type ObjectsOptions,
  type ObjectsResult,
  objectsTask,
} from './tasks/objects/index.js';
export {
  COCO_KEYPOINTS,
  COCO_SKELETON,
  type Keypoint,
  type KeypointName,
  type PoseOptions,
  type PoseResult,
  poseTask,
} from './tasks/pose/index.js';
export { type RunOptions, runTask } from './tasks/run.js';
export {
  type ClassShare,
  type MaskKind,
  type Segmentation,
  type SegmentOptions,
  segmentTask,
} from './tasks/segment/index.js';
export type {
  InferContext,
  LoadedModel,
  ModelParts,
  PictureRenderer,
  RawOptions,
  Task,
  TaskFlag,
  TaskResultBase,
  TaskSummary,
} from './tasks/task.js';
