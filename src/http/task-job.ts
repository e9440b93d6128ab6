/**
 * One task request, as a surface hands it to whatever runs it: this process (runJobHere), or
 * the self-hosted server's worker processes (handlers/server/pool.ts), which receive it over
 * structured-clone IPC. So a job names its task by id and carries only plain data; the task's
 * parsed options must be plain data too (numbers, strings, booleans, arrays of them).
 *
 * Pictures are drawn where the model ran: drawing is CPU work like inference, and the server
 * keeps that in its workers.
 */
import { BadRequestError, TfliteFnError, UnavailableError } from '../errors.js';
import type { ModelCatalog } from '../model/catalog.js';
import type { ModelSource } from '../oip/model-source.js';
import { taskById } from '../tasks/index.js';
import { runTask } from '../tasks/run.js';
import type { TaskResultBase } from '../tasks/task.js';

export interface TaskJob {
  /** A task id from TASKS. */
  readonly task: string;
  readonly image: Uint8Array;
  /** The task's options, already checked by its parseOptions. */
  readonly options: unknown;
  /** The model to run (default: the task's). */
  readonly model?: string | undefined;
  /**
   * The version of a repository model, chosen where the request arrived (pinVersions): the
   * process that answers the model repository API decides what serves, whoever runs the job.
   */
  readonly modelVersion?: string | undefined;
  /** A picture to draw as well: a name in the task's `pictures`. */
  readonly picture?: string | undefined;
}

export interface TaskOutcome {
  readonly result: TaskResultBase;
  /** The picture asked for, encoded (its content type is the task's picture's). */
  readonly picture?: Uint8Array | undefined;
}

/** What runs a job: runJobHere in this process by default; the server passes its pool. */
export type TaskRunner = (job: TaskJob) => Promise<TaskOutcome>;

/**
 * Runs a job in this process: the task on the image, then the picture if one was asked for.
 * `source` (a model repository) is where a named model is looked for before the catalog.
 */
export async function runJobHere(
  job: TaskJob,
  catalog?: ModelCatalog,
  source?: ModelSource,
): Promise<TaskOutcome> {
  const task = taskById(job.task);
  const picture = job.picture === undefined ? undefined : task.pictures?.[job.picture];
  // The surfaces only ask for pictures a task has; a job from elsewhere is checked all the same.
  if (job.picture !== undefined && !picture)
    throw new BadRequestError('bad_option', `${task.id} has no picture named '${job.picture}'`);
  const result = await runTask(task, job.image, job.options, {
    ...(job.model === undefined ? {} : { model: job.model }),
    ...(job.modelVersion === undefined ? {} : { version: job.modelVersion }),
    ...(catalog ? { catalog } : {}),
    ...(source ? { source } : {}),
  });
  return { result, picture: picture ? await picture.render(job.image, result) : undefined };
}

/**
 * A runner whose jobs naming a model of `source` carry the version `source` serves now: one
 * not ready (unloaded, broken, none yet) is refused here (503), before the job goes anywhere.
 * The self-hosted server's workers each watch the repository too, and would otherwise serve a
 * model its API has unloaded, or a version of their own choosing.
 */
export function pinVersions(run: TaskRunner, source: ModelSource): TaskRunner {
  return async (job) => {
    if (job.model === undefined) return run(job);
    let resolved: Awaited<ReturnType<ModelSource['resolve']>>;
    try {
      resolved = await source.resolve(job.model);
    } catch (error) {
      // Not the source's: the catalog's turn, where the job runs.
      if (error instanceof TfliteFnError && error.code === 'unknown_model') return run(job);
      throw error;
    }
    resolved.release(); // whoever runs the job holds the version while it runs
    if (resolved.state !== 'READY')
      throw new UnavailableError(
        'model_not_ready',
        `model '${resolved.name}' version ${resolved.version} is not ready: ${resolved.reason ?? resolved.state.toLowerCase()}`,
      );
    return run({ ...job, modelVersion: resolved.version });
  };
}
