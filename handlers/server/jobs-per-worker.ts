/**
 * How many jobs the pool gives one worker at once. Two let a worker decode one image while it
 * infers another; with dynamic batching a worker needs a batch's worth, or it has nothing to
 * gather. Each model's batch is what batch/settings.ts decides from its descriptor (a catalog
 * descriptor, or a repository version's config.yaml) and the workers' environment.
 */
import { batchingFor, type DeclaredBatching } from '../../src/batch/settings.js';
import type { ModelCatalog } from '../../src/model/catalog.js';
import type { ModelRepository } from '../../src/model/repository.js';

/** Jobs one worker runs at once without batching: it decodes one image while it infers another. */
export const PER_WORKER = 2;

/**
 * A repository's configs are looked at again at most this often: dispatches are frequent, and a
 * repository holds up to thousands of versions; a config change is picked up by a poll anyway.
 */
export const REPOSITORY_RECHECK_MS = 1000;

interface Declaring {
  readonly name: string;
  readonly batch: DeclaredBatching | undefined;
}

function largestBatch(models: Iterable<Declaring>, workerEnv: NodeJS.ProcessEnv): number {
  let largest = PER_WORKER;
  for (const { name, batch } of models)
    largest = Math.max(largest, batchingFor(name, batch, workerEnv).maxBatchSize);
  return largest;
}

/**
 * Jobs per worker now: the largest batch a catalog model runs, or a repository version when the
 * server has one (its configs change while it runs: asked again at each dispatch, recomputed
 * at most once a second).
 */
export function jobsPerWorker(
  catalog: ModelCatalog,
  repository: Pick<ModelRepository, 'declaredBatches'> | undefined,
  workerEnv: NodeJS.ProcessEnv,
): () => number {
  const catalogModels = catalog
    .entries()
    .flatMap((entry) => (entry.descriptor ? [{ name: entry.id, batch: entry.descriptor.batch }] : []));
  const fromCatalog = largestBatch(catalogModels, workerEnv);
  if (!repository) return () => fromCatalog;
  let known = fromCatalog;
  let checkedAt = -Infinity;
  return () => {
    const now = performance.now();
    if (now - checkedAt >= REPOSITORY_RECHECK_MS) {
      checkedAt = now;
      known = Math.max(fromCatalog, largestBatch(repository.declaredBatches(), workerEnv));
    }
    return known;
  };
}
