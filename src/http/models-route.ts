/** GET /models: what this deployment serves, for clients and the demo page. */
import type { ModelCatalog } from '../model/catalog.js';
import { ModelRepository } from '../model/repository.js';
import type { ModelSource } from '../oip/model-source.js';
import { TASKS, taskById } from '../tasks/index.js';
import type { RouteHandler } from './app.js';
import { offersOf } from './negotiate.js';
import { routeOfTask } from './routes.js';

/**
 * GET /models: every model with its task, the default model, and every task (its route, its
 * default model here, the answer's forms and its pictures): what a client or the demo page
 * needs to offer the tasks. With a model repository, its models too (`repository`), with
 * their versions' states; a task route runs them by name.
 */
export function modelsHandler(catalog: ModelCatalog, source: ModelSource | undefined): RouteHandler {
  return async (c) =>
    c.json({
      ...(source instanceof ModelRepository ? { repository: await source.models() } : {}),
      default: catalog.defaultModel,
      models: catalog.entries().map((entry) =>
        entry.descriptor
          ? {
              id: entry.id,
              title: entry.descriptor.title ?? entry.id,
              task: entry.descriptor.task,
              input: { width: entry.descriptor.input.width, height: entry.descriptor.input.height },
              resize: entry.descriptor.input.resize,
              labels: taskById(entry.descriptor.task).labelsOf?.(entry.descriptor)?.file,
            }
          : { id: entry.id, error: 'invalid descriptor' },
      ),
      tasks: TASKS.map((task) => ({
        id: task.id,
        summary: task.summary,
        route: routeOfTask(task.id),
        model: catalog.defaultModelFor(task),
        formats: offersOf(task).map((offer) => offer.format),
        pictures: Object.keys(task.pictures ?? {}),
      })),
    });
}
