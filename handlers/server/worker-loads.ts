/**
 * How the server's main process learns whether a repository version loads, without loading it:
 * it checks the version's files itself (src/model/repository-version.ts: present, within the
 * model-size limit, a TensorFlow Lite file, a valid descriptor), then a worker loads it and
 * answers with its signature. The main process holds no engine session, so its memory does not
 * grow with the repository, and a version that only an engine refuses is reported as the
 * workers met it.
 *
 * A worker loads the version through the ordinary job queue (a 'describe' job naming the
 * content the main process checked); the other workers load it on their first request for it.
 * One worker, not all at once: a load takes its worker's CPU for a while (building the engine
 * session, a warm-up run), and every worker loading at the same moment would hold up every
 * request the server is answering.
 */
import { TfliteFnError } from '../../src/errors.js';
import type { LoadTarget } from '../../src/model/repository.js';
import type { WorkerPool } from './pool.js';

export function loadInWorkers(
  pool: () => Pick<WorkerPool, 'describe'>,
  /** Resolves once the pool has been started: jobs sent before would be refused (no worker). */
  started: Promise<unknown>,
  timeoutMs: number,
): (target: LoadTarget) => Promise<void> {
  return async (target) => {
    await started;
    try {
      await pool().describe(target);
    } catch (error) {
      // The job's deadline is the server's request timeout: say what took too long.
      if (error instanceof TfliteFnError && error.code === 'timeout')
        throw new TfliteFnError(
          500,
          'model_load_failed',
          `loading it in a worker took longer than the server's timeout (${timeoutMs} ms, --timeout)`,
          { expose: true },
        );
      throw error;
    }
  };
}

/**
 * The repository API's unload on the server: the main process holds no copy, so the workers
 * free theirs (each once its running requests are done); logged with how many they freed.
 */
export function unloadInWorkers(
  pool: () => Pick<WorkerPool, 'unloadEverywhere'>,
  log: (event: Record<string, unknown>) => void,
): (name: string) => Promise<void> {
  return async (name) => {
    try {
      const freed = await pool().unloadEverywhere(name);
      log({
        msg: 'model unloaded in the workers',
        model: name,
        workers: freed.length,
        freed: freed.reduce((sum, count) => sum + count, 0),
      });
    } catch (error) {
      // The model is unloaded all the same (no request reaches it): a worker that did not
      // answer (it died, or timed out and was replaced) holds nothing any more.
      log({ level: 'warn', msg: 'a worker did not confirm an unload', model: name, error: String(error) });
    }
  };
}
