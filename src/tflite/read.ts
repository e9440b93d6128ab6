/** Opens a .tflite file for reading: the entry point of the one TFLite reader. */
import { ModelLoadError } from '../errors.js';
import { FlatFile, OutOfBoundsError } from './flatbuffer.js';
import { Model } from './schema.js';
import { validateModel } from './validate.js';

/**
 * Opens a .tflite file and checks what every reader of it relies on (see validateModel). Reads
 * are lazy, so any accessor may later throw; `withModelErrors` turns those failures into a
 * ModelLoadError that names the model.
 */
export function readTfliteModel(bytes: Uint8Array, label: string): Model {
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(4, 8)) !== 'TFL3') {
    throw new ModelLoadError(`${label} is not a TensorFlow Lite model (no TFL3 identifier)`);
  }
  return withModelErrors(label, () => {
    const file = new FlatFile(bytes);
    const model = new Model(file, file.root());
    validateModel(model);
    return model;
  });
}

/** Runs `read`, reporting reads past the end of the file as a truncated or corrupt model. */
export function withModelErrors<T>(label: string, read: () => T): T {
  try {
    return read();
  } catch (cause) {
    if (cause instanceof OutOfBoundsError) {
      throw new ModelLoadError(`${label} is truncated or corrupt: ${cause.message}`, { cause });
    }
    throw cause;
  }
}
