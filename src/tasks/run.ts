/**
 * runTask: one photo through one task. Everything that is the same for every task happens
 * here once: which model (the request's, else the task's default), refusing a model of
 * another task, loading it (started while the photo opens), opening the photo within limits,
 * timing, and the fields every result starts with.
 */
import type { TensorData } from '../engine/types.js';
import { BadRequestError, TfliteFnError } from '../errors.js';
import { defaultImageLimits, type ImageLimits, openImage } from '../image/decode.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { zerosFor } from '../model/load.js';
import type { ModelSource, ResolvedModel } from '../oip/model-source.js';
import type { InferContext, LoadedModel, Task, TaskResultBase } from './task.js';

export interface RunOptions {
  /** Model id; the catalog's default for the task when omitted (see ModelCatalog.defaultModelFor). */
  readonly model?: string | undefined;
  readonly catalog?: ModelCatalog | undefined;
  /**
   * Models looked up by name before the catalog (a model repository): a named model it holds
   * runs in its newest ready version, held until the run ends (see ModelSource).
   */
  readonly source?: ModelSource | undefined;
  /** The source model's version (default: its newest ready one). */
  readonly version?: string | undefined;
  readonly limits?: ImageLimits | undefined;
}

/** Milliseconds to two decimals, as every result has always reported them. */
function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function assertTask(task: Pick<Task, 'id'>, id: string, modelTask: string): void {
  if (modelTask !== task.id) {
    throw new BadRequestError(
      'wrong_task',
      `model '${id}' is a ${modelTask} model; use it with ${modelTask} (POST /${modelTask})`,
    );
  }
}

/** The model's id for this task, refused (400 wrong_task) when it is another task's model. */
function modelFor(
  task: Pick<Task, 'id' | 'defaultModel'>,
  catalog: ModelCatalog,
  requested?: string,
): string {
  const id = requested ?? catalog.defaultModelFor(task);
  assertTask(task, id, catalog.entry(id).descriptor.task);
  return id;
}

/** The source's model of that name, or undefined when the source has none (the catalog's turn). */
async function fromSource(
  source: ModelSource,
  name: string,
  version: string | undefined,
): Promise<ResolvedModel | undefined> {
  try {
    return await source.resolve(name, version);
  } catch (error) {
    if (error instanceof TfliteFnError && error.code === 'unknown_model') return undefined;
    throw error;
  }
}

interface ModelChoice<S> {
  readonly id: string;
  readonly loading: Promise<LoadedModel<S>>;
  /** Ends the run's hold on a source's model version. */
  readonly release: () => void;
}

/** The request's model: the source's when it holds that name, else the catalog's (or the default). */
async function chooseModel<S>(
  task: Pick<Task, 'id' | 'defaultModel'>,
  catalog: ModelCatalog,
  run: RunOptions,
): Promise<ModelChoice<S>> {
  const resolved =
    run.source && run.model !== undefined ? await fromSource(run.source, run.model, run.version) : undefined;
  if (!resolved) {
    const id = modelFor(task, catalog, run.model);
    return { id, loading: catalog.load(id) as Promise<LoadedModel<S>>, release: () => undefined };
  }
  const loading = resolved.load().then((model) => {
    assertTask(task, resolved.name, model.descriptor.task);
    return model as LoadedModel<S>;
  });
  return { id: resolved.name, loading, release: () => resolved.release() };
}

export async function runTask<O, R extends TaskResultBase, S>(
  task: Task<O, R, S>,
  image: Uint8Array,
  options: O,
  run: RunOptions = {},
): Promise<R> {
  const started = performance.now();
  const catalog = run.catalog ?? defaultCatalog();
  const choice = await chooseModel<S>(task, catalog, run);
  try {
    return await runOn(task, image, options, choice, run, started);
  } finally {
    choice.release();
  }
}

async function runOn<O, R extends TaskResultBase, S>(
  task: Task<O, R, S>,
  image: Uint8Array,
  options: O,
  { id, loading }: ModelChoice<S>,
  run: RunOptions,
  started: number,
): Promise<R> {
  // Loading the model (a no-op once loaded) goes on while sharp reads the photo on its own threads.
  loading.catch(() => undefined); // handled below; avoids an unhandled rejection if the photo fails first

  const timing = { decodeMs: 0, inferenceMs: 0 };
  const opening = performance.now();
  const photo = await openImage(image, run.limits ?? defaultImageLimits());
  timing.decodeMs += performance.now() - opening;
  const model = await loading;

  const context: InferContext<S> = {
    photo,
    model,
    async run(imageTensor: TensorData) {
      const inputs = model.engine.inputs.map((info, index) =>
        index === model.inputIndex ? imageTensor : zerosFor(info),
      );
      const inferring = performance.now();
      try {
        return await model.engine.run(inputs);
      } finally {
        timing.inferenceMs += performance.now() - inferring;
      }
    },
    async preparing<T>(step: () => Promise<T> | T): Promise<T> {
      const preparing = performance.now();
      try {
        return await step();
      } finally {
        timing.decodeMs += performance.now() - preparing;
      }
    },
  };
  const answer = await task.infer(context, options);
  return {
    model: id,
    engine: model.engineName,
    ...answer,
    image: { format: photo.format, width: photo.uprightWidth, height: photo.uprightHeight },
    timings: {
      decodeMs: roundMs(timing.decodeMs),
      inferenceMs: roundMs(timing.inferenceMs),
      totalMs: roundMs(performance.now() - started),
    },
  } as R;
}
