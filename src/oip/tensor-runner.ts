/**
 * What runs a model on raw tensors for the /v2 routes, apart from the HTTP side: the request is
 * read, sized and checked against the model's signature where it arrived, then the tensors go
 * to whatever runs the model. In this process by default (runTensorsHere); the self-hosted
 * server runs them in its worker processes (handlers/server/tensor-jobs.ts), where the models
 * are loaded and batched, so its main process never loads a model for /v2.
 *
 * A signature and the tensors are plain data (structured-clone safe), so they cross processes.
 */
import type { TensorData, TensorInfo } from '../engine/types.js';
import type { ClassifyState } from '../tasks/classify/check.js';
import { outputOf } from '../tasks/classify/section.js';
import type { LoadedModel } from '../tasks/task.js';
import type { ResolvedModel } from './model-source.js';

/** What the /v2 routes need to know of a model: its tensors, and a classifier's labels. */
export interface ModelSignature {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** A classifier's scores output: element i is labelled by names[i - offset]. */
  readonly labels?: { readonly output: number; readonly offset: number; readonly names: readonly string[] };
}

/** The model a tensor job names: the name and version the request resolved where it arrived. */
export type ModelRef = Pick<ResolvedModel, 'name' | 'version'>;

export interface TensorRunner {
  /** The model's signature (may be remembered by the runner: a version's content is fixed). */
  describe(model: ResolvedModel): Promise<ModelSignature>;
  /** The model run once on inputs already checked against its signature, in its input order. */
  infer(model: ResolvedModel, inputs: TensorData[]): Promise<TensorData[]>;
}

/** A loaded model's signature; its labels only for a classifier that has them. */
export function signatureOf(model: LoadedModel<unknown>): ModelSignature {
  const tensors = {
    inputs: model.engine.inputs.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] })),
    outputs: model.engine.outputs.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] })),
  };
  if (model.descriptor.task !== 'classify' || model.labels.length === 0) return tensors;
  const { outputIndex } = model.state as ClassifyState;
  const offset = outputOf(model.descriptor).label_offset;
  return { ...tensors, labels: { output: outputIndex, offset, names: [...model.labels] } };
}

/** Tensors run in this process, on the model the source resolved (loaded here on first use). */
export const runTensorsHere: TensorRunner = {
  describe: async (model) => signatureOf(await model.load()),
  infer: async (model, inputs) => (await model.load()).engine.run(inputs),
};
