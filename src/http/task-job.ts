/**
 * One task request, as a surface hands it to whatever runs it: this process (runJobHere), or
 * the self-hosted server's worker processes (handlers/server/pool.ts), which receive it over
 * structured-clone IPC. So a job names its task by id and carries only plain data; the task's
 * parsed options must be plain data too (numbers, strings, booleans, arrays of them).
 *
 * Pictures are drawn where the model ran: drawing is CPU work like inference, and the server
 * keeps that in its workers.
 */
import { BadRequestError } from '../errors.js';
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
    ...(catalog ? { catalog } : {}),
    ...(source ? { source } : {}),
  });
  return { result, picture: picture ? await picture.render(job.image, result) : undefined };
}
