/**
 * runTask: one photo through one task. Everything that is the same for every task happens
 * here once: which model (the request's, else the task's default), refusing a model of
 * another task, loading it (started while the photo opens), opening the photo within limits,
 * timing, and the fields every result starts with.
 */
import type { TensorData } from '../engine/types.js';
import { BadRequestError } from '../errors.js';
import { defaultImageLimits, type ImageLimits, openImage } from '../image/decode.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { zerosFor } from '../model/load.js';
import type { InferContext, LoadedModel, Task, TaskResultBase } from './task.js';

export interface RunOptions {
  /** Model id; the catalog's default for the task when omitted (see ModelCatalog.defaultModelFor). */
  readonly model?: string | undefined;
  readonly catalog?: ModelCatalog | undefined;
  readonly limits?: ImageLimits | undefined;
}

/** Milliseconds to two decimals, as every result has always reported them. */
function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The model's id for this task, refused (400 wrong_task) when it is another task's model. */
function modelFor(
  task: Pick<Task, 'id' | 'defaultModel'>,
  catalog: ModelCatalog,
  requested?: string,
): string {
  const id = requested ?? catalog.defaultModelFor(task);
  const modelTask = catalog.entry(id).descriptor.task;
  if (modelTask !== task.id) {
    throw new BadRequestError(
      'wrong_task',
      `model '${id}' is a ${modelTask} model; use it with ${modelTask} (POST /${modelTask})`,
    );
  }
  return id;
}

export async function runTask<O, R extends TaskResultBase, S>(
  task: Task<O, R, S>,
  image: Uint8Array,
  options: O,
  run: RunOptions = {},
): Promise<R> {
  const started = performance.now();
  const catalog = run.catalog ?? defaultCatalog();
  const id = modelFor(task, catalog, run.model);
  // Start loading the model (a no-op once loaded) while sharp reads the photo on its own threads.
  const loading = catalog.load(id) as Promise<LoadedModel<S>>;
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
