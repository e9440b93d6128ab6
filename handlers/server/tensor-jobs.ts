/**
 * The self-hosted server's TensorRunner (src/oip/tensor-runner.ts): /v2 models run in the
 * worker pool, where the models are loaded (and batched), never in the main process, which
 * only reads, sizes and checks requests against a model's signature and formats the answer.
 *
 * A signature is asked of a worker once per model version and remembered: a catalog model is
 * fixed for the life of the process, and a repository version's content has its own key
 * (ResolvedModel.contentKey), so a version changed in place is described again.
 */
import type { ModelSignature, TensorRunner } from '../../src/oip/tensor-runner.js';
import type { WorkerPool } from './pool.js';

/** Signatures remembered at most; past it the memory starts over (a repository of many versions). */
const MAX_SIGNATURES = 256;

export function poolTensorRunner(pool: Pick<WorkerPool, 'describe' | 'runTensors'>): TensorRunner {
  const signatures = new Map<string, Promise<ModelSignature>>();
  return {
    describe(model) {
      const key = JSON.stringify([model.name, model.version, model.contentKey ?? null]);
      let signature = signatures.get(key);
      if (!signature) {
        if (signatures.size >= MAX_SIGNATURES) signatures.clear();
        signature = pool.describe(model);
        signatures.set(key, signature);
        // A failure (no worker yet, a load error) is not remembered: the next request asks again.
        signature.catch(() => signatures.delete(key));
      }
      return signature;
    },
    infer: (model, inputs) => pool.runTensors(model, inputs),
  };
}
