/**
 * objects' load-time check: the model is an SSD whose graph was cut at the inputs of its
 * TFLite_Detection_PostProcess (descriptor `model.outputs`), the engine gives those tensors
 * with the shapes the original file says, and the labels cover every class. Builds what
 * inference needs: the operator's settings and a reader per output.
 */
import type { TensorData, TensorInfo } from '../../engine/types.js';
import { ModelLoadError } from '../../errors.js';
import type { ModelParts } from '../task.js';
import { POST_PROCESS_OP, type PostProcessInput, readSsdModel } from './model-settings.js';
import type { PostProcessSettings } from './post-process.js';

/** One of the operator's inputs among the engine's outputs, and how to read it as floats. */
export interface OutputReader {
  readonly index: number;
  read(data: TensorData): Float32Array;
}

export interface ObjectsState {
  readonly settings: PostProcessSettings;
  readonly boxes: OutputReader;
  readonly scores: OutputReader;
}

/**
 * uint8 outputs are dequantized through a 256-entry table, each entry computed as TFLite's
 * kernel does, (stored - zero point) x scale in float32; float outputs are taken as they are.
 */
function readerFor(input: PostProcessInput, info: TensorInfo, index: number, id: string): OutputReader {
  const q = input.quantization;
  if (info.dtype === 'float32') return { index, read: (data) => data as Float32Array };
  if (info.dtype !== 'uint8' || !q) {
    throw new ModelLoadError(
      `model '${id}': output '${input.name}' is ${info.dtype}${q ? '' : ' without a scale'}; expected uint8 or float32`,
    );
  }
  const table = Float32Array.from({ length: 256 }, (_, stored) => (stored - q.zeroPoint) * q.scale);
  return {
    index,
    read(data) {
      const out = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = table[data[i] as number] as number;
      return out;
    },
  };
}

function findOutput(outputs: readonly TensorInfo[], input: PostProcessInput, id: string): number {
  const index = outputs.findIndex((output) => output.name === input.name);
  if (index < 0) {
    throw new ModelLoadError(
      `model '${id}' has no output '${input.name}' (an input of ${POST_PROCESS_OP}); its outputs are ${outputs.map((o) => `'${o.name}'`).join(', ')}. Cut the graph there: model.outputs in the descriptor`,
    );
  }
  const shape = (outputs[index] as TensorInfo).shape;
  if (shape.join(',') !== input.shape.join(',')) {
    throw new ModelLoadError(
      `model '${id}': output '${input.name}' has shape [${shape.join(', ')}]; the model file says [${input.shape.join(', ')}]`,
    );
  }
  return index;
}

export async function prepareObjects({
  descriptor,
  engine,
  labels,
  tflite,
}: ModelParts): Promise<ObjectsState> {
  const id = descriptor.id;
  const facts = readSsdModel(await tflite(), `model '${id}'`);
  const { numClasses } = facts.settings;
  if (labels.length < numClasses) {
    throw new ModelLoadError(
      `model '${id}' has ${numClasses} classes but its labels file has ${labels.length} lines`,
    );
  }
  const boxesIndex = findOutput(engine.outputs, facts.boxes, id);
  const scoresIndex = findOutput(engine.outputs, facts.scores, id);
  return {
    settings: facts.settings,
    boxes: readerFor(facts.boxes, engine.outputs[boxesIndex] as TensorInfo, boxesIndex, id),
    scores: readerFor(facts.scores, engine.outputs[scoresIndex] as TensorInfo, scoresIndex, id),
  };
}
