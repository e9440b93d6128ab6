/**
 * Every task tflite-fn runs, one line each: adding a task is adding its folder and its line.
 * The descriptor schema, the catalog, the route table, the CLI, the server, the stream worker
 * and the demo page all follow from this list.
 *
 * A task module must not import src/tasks/run.ts, the catalog or descriptor.ts's values (only
 * its types): descriptor.ts imports this list.
 *
 * Every process imports this list (the descriptor schema is made from it), but runs one task
 * or a few: a task's index.ts declares (id, section, options, renderers' names) and imports its
 * working parts (image decoding, drawing, reading the model's constants) on first use, with
 * `await import('./infer.js')` inside infer, prepareModel or a picture's render. Loading every
 * task's code at start would cost each cold start ~25 ms (test/tasks.test.ts checks this).
 */
import { BadRequestError, shown } from '../errors.js';
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
      `unknown task '${shown(id)}'; tasks: ${TASKS.map((candidate) => candidate.id).join(', ')}`,
    );
  }
  return task;
}
