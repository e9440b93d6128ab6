/**
 * What runs a model on raw tensors for the /v2 routes, apart from the HTTP side: the request is
 * read, sized and checked against the model's signature where it arrived, then the tensors go
 * to whatever runs the model. In this process by default (runTensorsHere); the self-hosted
 * server runs them in its worker processes (handlers/server/tensor-jobs.ts), where the models
 * are loaded and batched, so its main process never loads a model for /v2.
 *
 * A signature and the tensors are plain data (structured-clone safe), so they cross processes.
 */
import type { EngineName } from '../engine/select.js';
import type { CompiledModel, TensorData, TensorInfo } from '../engine/types.js';
import { TfliteFnError } from '../errors.js';
import type { ClassifyState } from '../tasks/classify/check.js';
import { outputOf } from '../tasks/classify/section.js';
import type { LoadedModel } from '../tasks/task.js';
import type { ResolvedModel } from './model-source.js';

/**
 * Whether a request may hold several items: open when the engine runs any batch in one call
 * (a converted graph whose open batch dimension was verified), else closed, with the reason.
 */
export type BatchDimension = { readonly open: true } | { readonly open: false; readonly reason: string };

/** What the /v2 routes need to know of a model: its tensors, and a classifier's labels. */
export interface ModelSignature {
  /** The engine's tensors, as one item has them (batch dimension 1 where there is one). */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly batch: BatchDimension;
  /** The engine it was read from: the batch dimension is open or not as that engine runs it. */
  readonly engine: EngineName;
  /** A classifier's scores output: element i is labelled by names[i - offset]. */
  readonly labels?: { readonly output: number; readonly offset: number; readonly names: readonly string[] };
}

/** The model a tensor job names: the name and version the request resolved where it arrived. */
export type ModelRef = Pick<ResolvedModel, 'name' | 'version'>;

export interface TensorRunner {
  /** The model's signature (may be remembered by the runner: a version's content is fixed). */
  describe(model: ResolvedModel): Promise<ModelSignature>;
  /**
   * The model run on inputs already checked against its signature, in its input order: one
   * item, or (batch open) several, each tensor holding the items one after another; the
   * outputs likewise (runOnEngine).
   */
  infer(model: ResolvedModel, inputs: TensorData[]): Promise<TensorData[]>;
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Open when the engine runs batches and every tensor leads with a batch dimension of 1. */
function batchOf(model: LoadedModel<unknown>): BatchDimension {
  const { engine } = model;
  const leads = [...engine.inputs, ...engine.outputs].every((info) => info.shape[0] === 1);
  if (engine.batchable && engine.runBatch && leads) return { open: true };
  if (model.engineName === 'litert')
    return { open: false, reason: 'it runs on litert, which takes one item per run' };
  return {
    open: false,
    reason: 'its converted graph has no verified open batch dimension (tflite-fn setup says why)',
  };
}

/** A loaded model's signature; its labels only for a classifier that has them. */
export function signatureOf(model: LoadedModel<unknown>): ModelSignature {
  const tensors = {
    inputs: model.engine.inputs.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] })),
    outputs: model.engine.outputs.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] })),
    batch: batchOf(model),
    engine: model.engineName,
  };
  if (model.descriptor.task !== 'classify' || model.labels.length === 0) return tensors;
  const { outputIndex } = model.state as ClassifyState;
  const offset = outputOf(model.descriptor).label_offset;
  return { ...tensors, labels: { output: outputIndex, offset, names: [...model.labels] } };
}

/** Each input's items, or an engine error when the tensors do not hold a whole, equal number. */
function itemsOf(engine: CompiledModel, inputs: readonly TensorData[]): number {
  const counts = engine.inputs.map((info, index) => (inputs[index]?.length ?? 0) / elements(info.shape));
  const items = counts[0] ?? 1;
  if (!Number.isInteger(items) || items < 1 || counts.some((count) => count !== items))
    throw new TfliteFnError(500, 'engine_error', `inputs of ${counts.join(', ')} items: not one whole batch`);
  return items;
}

/**
 * Runs checked inputs on an engine: one item as one run; several (each tensor holding them one
 * after another) as one batched run, each output holding the items' outputs one after another.
 */
export async function runOnEngine(
  engine: CompiledModel,
  inputs: readonly TensorData[],
): Promise<TensorData[]> {
  const items = itemsOf(engine, inputs);
  if (items === 1) return engine.run(inputs);
  const split = Array.from({ length: items }, (_, item) =>
    engine.inputs.map((info, index) => {
      const size = elements(info.shape);
      return (inputs[index] as TensorData).subarray(item * size, (item + 1) * size);
    }),
  );
  // The signature the request was checked against said this version batches, but this copy
  // of it does not (a server worker that has not yet picked up the version's conversion):
  // the same answer, one item after another.
  const outputs =
    engine.batchable && engine.runBatch
      ? await engine.runBatch(split)
      : await split.reduce<Promise<TensorData[][]>>(
          async (done, item) => [...(await done), await engine.run(item)],
          Promise.resolve([]),
        );
  return engine.outputs.map((_, index) => joinItems(outputs.map((item) => item[index] as TensorData)));
}

/** The items' tensors one after another, in one array of their type. */
function joinItems(parts: readonly TensorData[]): TensorData {
  const first = parts[0] as TensorData;
  const Constructor = first.constructor as new (length: number) => TensorData;
  const joined = new Constructor(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part as never, at);
    at += part.length;
  }
  return joined;
}

/** Tensors run in this process, on the model the source resolved (loaded here on first use). */
export const runTensorsHere: TensorRunner = {
  describe: async (model) => signatureOf(await model.load()),
  infer: async (model, inputs) => runOnEngine((await model.load()).engine, inputs),
};
