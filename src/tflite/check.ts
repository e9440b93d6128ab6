/**
 * A structural check of a .tflite file before LiteRT sees it.
 *
 * LiteRT.js does not verify the FlatBuffer: a model cut short by a broken download compiles and
 * runs, and quietly reads zeros where its weights should be (seen with a MobileNet missing its
 * last kilobyte: every score 0). Some malformed files also abort the wasm instance, taking every
 * other model in the process with it. So, beyond what readTfliteModel checks (shapes, buffer
 * sizes, indices: see ./validate.ts), we touch every table and vector the model is made of
 * (subgraphs, tensors, operators, weight buffers, metadata, signatures) through the one reader,
 * whose every read is bounds-checked, and refuse a file whose pointers leave it.
 */

import { readTfliteModel, withModelErrors } from './read.js';
import type { Model } from './schema.js';

/** Reads every vector and table of the schema parts a model may have, discarding the values. */
function touchEverything(model: Model): void {
  for (const code of model.operatorCodes) void code.customCode;
  for (const subgraph of model.subgraphs) {
    for (const tensor of subgraph.tensors) {
      void tensor.shape;
      void tensor.name;
      void tensor.shapeSignature;
      const quantization = tensor.quantization;
      if (quantization) {
        void quantization.min;
        void quantization.max;
        void quantization.scale;
        void quantization.zeroPoint;
      }
    }
    void subgraph.inputs;
    void subgraph.outputs;
    for (const operator of subgraph.operators) {
      void operator.inputs;
      void operator.outputs;
      void operator.customOptions;
    }
    void subgraph.name;
  }
  void model.description;
  for (const buffer of model.buffers) {
    void buffer.data;
    // Data stored after the FlatBuffer must lie inside the file, even when inline data wins.
    void buffer.external;
  }
  void model.metadataBuffer;
  for (const metadata of model.metadata) void metadata.name;
  for (const signature of model.signatureDefs) {
    for (const map of [...signature.inputs, ...signature.outputs]) void map.name;
    void signature.key;
  }
}

/**
 * Refuses a model LiteRT must not see: not a .tflite file, pointers that leave the file, or
 * numbers that do not hold together. One check serves both engines: the converter reads the
 * same file through the same reader.
 */
export function assertTfliteIntegrity(bytes: Uint8Array, label: string): void {
  const model = readTfliteModel(bytes, label);
  withModelErrors(label, () => touchEverything(model));
}
