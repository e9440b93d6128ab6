/**
 * One model on both engines, for the converter's exactness tests: LiteRT's outputs (the
 * reference) and onnxruntime's on the converted model, once per int8 kernel path this CPU
 * computes exactly (each must equal LiteRT's bytes).
 */
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { OrtCompiledModel } from '../src/engine/ort-model.js';
import type { TensorData } from '../src/engine/types.js';
import { exactInt8Paths } from '../src/util/cpu.js';

/** LiteRT's outputs and onnxruntime's on each exact int8 path, for the same inputs. */
export async function bothEngines(
  model: Uint8Array,
  inputs: TensorData[],
): Promise<[TensorData[], TensorData[][]]> {
  const lite = await LiteRtCompiledModelAdapter.compile(model, 'case');
  const expected = await lite.run(inputs).finally(() => lite.dispose());
  const converted = convertTfliteToOnnx(model, 'case');
  const actual: TensorData[][] = [];
  for (const path of exactInt8Paths()) {
    const ort = await OrtCompiledModel.compile(converted.onnx, converted, 'case', 1, path);
    actual.push(await ort.run(inputs).finally(() => ort.dispose()));
  }
  return [expected, actual];
}
