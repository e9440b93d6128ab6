/**
 * Every task tflite-fn runs, one line each: adding a task is adding its folder and its line.
 * The descriptor schema, the catalog, the route table, the CLI, the server, the stream worker
 * and the demo page all follow from this list.
 *
 * A task module must not import src/tasks/run.ts, the catalog or descriptor.ts's values (only
 * its types): descriptor.ts imports this list.
 */
import { BadRequestError } from '../errors.js';
import { classifyTask } from './classify/index.js';
import { detectTask } from './detect/index.js';
import { embedTask } from './embed/index.js';
import { objectsTask } from './objects/index.js';
import { poseTask } from './pose/index.js';
import { segmentTask } from './segment/index.js';
import type { Task } from './task.js';

// biome-ignore lint/suspicious/noExplicitAny: each task has its own option, result and state types.
export type AnyTask = Task<any, any, any>;

export const TASKS: readonly AnyTask[] = [
  classifyTask,
  detectTask,
  objectsTask,
  segmentTask,
  poseTask,
  embedTask,
];

/** The task with this id, or 400 unknown_task listing the ids there are. */
export function taskById(id: string): AnyTask {
  const task = TASKS.find((candidate) => candidate.id === id);
  if (!task) {
    throw new BadRequestError(
      'unknown_task',
      `unknown task '${id}'; tasks: ${TASKS.map((candidate) => candidate.id).join(', ')}`,
    );
  }
  return task;
}
