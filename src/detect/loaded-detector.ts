/** A detection model ready to run: compiled, checked against its descriptor, anchors built. */
import { basename } from 'node:path';
import { compileWithEngine, type EngineName, type EngineSetting } from '../engine/select.js';
import type { CompiledModel, TensorInfo } from '../engine/types.js';
import { ModelLoadError } from '../errors.js';
import type { TensorLayout } from '../image/to-tensor.js';
import type { DetectDescriptor } from '../model/descriptor.js';
import { NPM_FIX, readModelFile, sha256Hex } from '../model/model-file.js';
import { type Anchor, generateAnchors } from './anchors.js';

export interface LoadedDetector {
  readonly descriptor: DetectDescriptor;
  readonly engine: CompiledModel;
  readonly engineName: EngineName;
  readonly engineReason: string;
  readonly layout: TensorLayout;
  readonly anchors: readonly Anchor[];
  readonly regressorsIndex: number;
  readonly scoresIndex: number;
  readonly loadMs: number;
  readonly warmUpMs: number;
}

function outputIndex(outputs: readonly TensorInfo[], name: string, id: string): number {
  const index = outputs.findIndex((o) => o.name === name);
  if (index < 0) {
    throw new ModelLoadError(
      `model '${id}' has no output '${name}'; its outputs are ${outputs.map((o) => `'${o.name}'`).join(', ')}`,
    );
  }
  return index;
}

export async function loadDetector(
  descriptor: DetectDescriptor,
  modelPath: string,
  options: { warmUp: boolean; engine: EngineSetting },
): Promise<LoadedDetector> {
  const started = performance.now();
  const id = descriptor.id;
  const readModel = () =>
    readModelFile({ path: modelPath, what: 'model file', id, sha256: descriptor.model.sha256, fix: NPM_FIX });
  // A pinned hash names the model without reading it: the native engine may not need the file.
  const modelSha256 = descriptor.model.sha256 ?? sha256Hex(await readModel());
  const choice = await compileWithEngine(
    readModel,
    modelSha256,
    // Named by its file name only: the label reaches HTTP clients in error messages.
    `model '${id}' (${basename(modelPath)})`,
    options.engine,
  );
  const engine = choice.model;
  try {
    const { width, height, format, mean, std } = descriptor.input;
    const input = engine.inputs[0] as TensorInfo;
    if (
      engine.inputs.length !== 1 ||
      input.shape.join(',') !== `1,${height},${width},3` ||
      input.dtype !== 'float32' ||
      !format.endsWith('32f')
    ) {
      throw new ModelLoadError(
        `model '${id}' input is ${input.dtype} [${input.shape.join(', ')}]; the descriptor says ${format} [1, ${height}, ${width}, 3]`,
      );
    }
    const spec = descriptor.detect;
    const regressorsIndex = outputIndex(engine.outputs, spec.regressors, id);
    const scoresIndex = outputIndex(engine.outputs, spec.scores, id);
    const anchors = generateAnchors(spec.anchors, width, height);
    const regressors = engine.outputs[regressorsIndex] as TensorInfo;
    const scores = engine.outputs[scoresIndex] as TensorInfo;
    const boxes = regressors.shape[1] ?? 0;
    if (
      boxes !== anchors.length ||
      (scores.shape[1] ?? 0) !== anchors.length ||
      (regressors.shape[2] ?? 0) < 4 + 2 * spec.keypoints
    ) {
      throw new ModelLoadError(
        `model '${id}' predicts ${boxes} boxes of ${regressors.shape[2]} values; the anchor settings give ${anchors.length} anchors and ${spec.keypoints} keypoints need ${4 + 2 * spec.keypoints} values`,
      );
    }
    const loadMs = performance.now() - started;
    let warmUpMs = 0;
    if (options.warmUp) {
      const warmStarted = performance.now();
      await engine.run([new Float32Array(width * height * 3)]);
      warmUpMs = performance.now() - warmStarted;
    }
    return {
      descriptor,
      engine,
      engineName: choice.engine,
      engineReason: choice.reason,
      layout: { width, height, format, mean, std },
      anchors,
      regressorsIndex,
      scoresIndex,
      loadMs,
      warmUpMs,
    };
  } catch (error) {
    engine.dispose();
    throw error;
  }
}
