/**
 * The one TensorFlow Lite reader: open and check a .tflite file, cut its graph short, read its
 * constants and custom options. Every read is bounds-checked; failures are ModelLoadErrors
 * that name the model.
 */
export { assertTfliteIntegrity } from './check.js';
export {
  type ConstantData,
  type ConstantTensor,
  CustomOptions,
  ModelConstants,
  type Quantization,
  realValues,
  type TensorFacts,
} from './constants.js';
export { cutGraph } from './cut.js';
export { readTfliteModel, withModelErrors } from './read.js';
