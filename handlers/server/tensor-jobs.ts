/**
 * The self-hosted server's TensorRunner (src/oip/tensor-runner.ts): /v2 models run in the
 * worker pool, where the models are loaded (and batched), never in the main process, which
 * only reads, sizes and checks requests against a model's signature and formats the answer.
 *
 * A signature is asked of a worker once and remembered under what it is made of, so it cannot
 * outlive what it describes: the version's checked content (ResolvedModel.contentKey: a file
 * changed in place is described again) and the engine the workers run it on
 * (ResolvedModel.engine: a conversion stored while the server runs opens the batch dimension).
 * A catalog model has neither: it is fixed for the life of the process.
 */
import type { ModelSignature, TensorRunner } from '../../src/oip/tensor-runner.js';
import type { WorkerPool } from './pool.js';

/** Signatures remembered at most; past it the memory starts over (a repository of many versions). */
const MAX_SIGNATURES = 256;

export function poolTensorRunner(pool: Pick<WorkerPool, 'describe' | 'runTensors'>): TensorRunner {
  const signatures = new Map<string, Promise<ModelSignature>>();
  return {
    describe(model) {
      const { name, version, contentKey, engine } = model;
      const key = JSON.stringify([name, version, contentKey ?? null, engine ?? null]);
      let signature = signatures.get(key);
      if (!signature) {
        if (signatures.size >= MAX_SIGNATURES) signatures.clear();
        signature = pool.describe(model);
        signatures.set(key, signature);
        const forget = () => {
          if (signatures.get(key) === signature) signatures.delete(key);
        };
        // Not remembered: a failure (no worker yet, a load error; the next request asks again),
        // and a signature read from another engine than the planned one (a worker whose own poll
        // has not yet moved the version to it: the next request asks again). Requests checked
        // against it meanwhile run either way (runOnEngine runs a batch one item at a time).
        signature.then((described) => {
          if (engine !== undefined && described.engine !== engine) forget();
        }, forget);
      }
      return signature;
    },
    infer: (model, inputs) => pool.runTensors(model, inputs),
  };
}
