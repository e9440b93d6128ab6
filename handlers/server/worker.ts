/**
 * A server worker process: loads and warms its models, then runs the jobs the server sends
 * (any task's, and the Open Inference Protocol's tensor jobs; see protocol.ts).
 * One process per core, each on one inference thread, so a crash (or a kill) costs one worker,
 * not the server.
 */
// First of all, before the imports below start native threads: the server must keep the CPU
// over its workers (see pool.ts's lanes).
import './worker-priority.js';
import { type BatchCounts, batchCounts } from '../../src/batch/batcher.js';
import { batchingFor } from '../../src/batch/settings.js';
import { PRELOAD } from '../../src/config/index.js';
import { TfliteFnError, toTfliteFnError, UnavailableError } from '../../src/errors.js';
import { runJobHere } from '../../src/http/task-job.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { repositoryFromEnv } from '../../src/model/repository-env.js';
import { catalogSource, type ResolvedModel } from '../../src/oip/model-source.js';
import { runOnEngine, signatureOf } from '../../src/oip/tensor-runner.js';
import { JobAssembler } from './job-pieces.js';
import type {
  AnyJobMessage,
  SerializedError,
  ServerMessage,
  TensorJobMessage,
  WorkerMessage,
  WorkerResult,
} from './protocol.js';

// The server going away (crash, kill -9, stop) closes the IPC channel: leave with it. Listened
// for before loading, so a worker told to stop while it loads does not finish loading first.
process.on('disconnect', () => process.exit(0));

/** Sends a message; `then` runs once it is written (or could not be: the server is gone). */
function send(message: WorkerMessage, then: () => void = () => undefined): void {
  // The server may be gone (shutting down, killed): then there is no one to tell, and an
  // EPIPE must not turn into an unhandled 'error' event.
  if (process.connected && process.send) process.send(message, undefined, undefined, then);
  else then();
}

function serialize(error: unknown): SerializedError {
  const failure = toTfliteFnError(error);
  if (failure.status >= 500 && !failure.expose) console.error(failure.cause ?? failure);
  return { status: failure.status, code: failure.code, message: failure.message, expose: failure.expose };
}

// Batching as each model's descriptor says, unless the server's settings (passed in the
// environment) override it: batch/settings.ts decides.
const catalog = new ModelCatalog({ warmUp: true, batching: batchingFor });
/**
 * The server's model repository, when it has one (TFLITE_FN_MODEL_REPOSITORY, set by the
 * server): task routes name its models too, so each worker watches it, and loads a version
 * when a request first runs it (the server decides which; see pinVersions), batched as the
 * catalog's models are.
 */
const repository = repositoryFromEnv(process.env, {
  loadOnUse: true,
  batching: batchingFor,
});
const preload = (PRELOAD.read() ?? catalog.defaultModel)
  .split(',')
  .map((id) => id.trim())
  .filter(Boolean);
const ids = preload.includes('all')
  ? catalog
      .entries()
      .filter((e) => e.descriptor)
      .map((e) => e.id)
  : preload;

/** Loads and warms the models, then says 'ready'; or says why not and exits. */
async function load(): Promise<boolean> {
  try {
    const loaded = await Promise.all(ids.map((id) => catalog.load(id)));
    send({
      type: 'ready',
      loadMs: Object.fromEntries(loaded.map((m) => [m.descriptor.id, m.loadMs])),
      warmUpMs: Object.fromEntries(loaded.map((m) => [m.descriptor.id, m.warmUpMs])),
      engines: Object.fromEntries(
        loaded.map((m) => [m.descriptor.id, { engine: m.engineName, reason: m.engineReason }]),
      ),
    });
    return true;
  } catch (error) {
    // Exit only once the reason is written: exiting at once can drop it, and the operator
    // would see a worker die without knowing why.
    send({ type: 'failed', error: serialize(error) }, () => process.exit(1));
    return false;
  }
}

/** Where the /v2 jobs' models are: the server's OIP routes serve the repository when it has one. */
const tensorSource = repository ?? catalogSource(catalog);

/**
 * The version a /v2 job names; for a describe naming content (the server checked a version and
 * asks a worker to load it), that content: a version changed in place that this worker's
 * polls have not seen yet is looked at again now, once.
 */
async function resolveFor(message: TensorJobMessage): Promise<ResolvedModel> {
  const model = await tensorSource.resolve(message.model, message.modelVersion);
  const wanted = message.type === 'describe' ? message.contentKey : undefined;
  if (!repository || wanted === undefined || model.contentKey === wanted) return model;
  model.release();
  await repository.load(message.model);
  const again = await tensorSource.resolve(message.model, message.modelVersion);
  if (again.contentKey === wanted) return again;
  again.release();
  throw new UnavailableError(
    'model_not_ready',
    `model '${message.model}' version ${message.modelVersion} changed while it was being loaded`,
  );
}

/** A /v2 job on the version the server resolved: its signature, or its outputs for the inputs. */
async function runTensors(message: TensorJobMessage): Promise<WorkerResult> {
  const model = await resolveFor(message);
  try {
    // The loaded model's engine runs through its batcher when the model batches (src/batch).
    const loaded = await model.load();
    return message.type === 'describe'
      ? signatureOf(loaded)
      : await runOnEngine(loaded.engine, message.inputs);
  } finally {
    model.release();
  }
}

/** The repository API's unload: this worker's copies freed; how many versions had one. */
async function unload(model: string): Promise<number> {
  try {
    return (await repository?.unload(model)) ?? 0;
  } catch (error) {
    // A model this worker's polls have not seen yet: it has nothing of it to free.
    if (error instanceof TfliteFnError && error.code === 'unknown_model') return 0;
    throw error;
  }
}

/** A job of any kind (a task's, and its picture; a /v2 job; an unload), run here. */
function runHere(message: AnyJobMessage): Promise<WorkerResult> {
  if (message.type === 'job') return runJobHere(message, catalog, repository);
  return message.type === 'unload' ? unload(message.model) : runTensors(message);
}

async function run(message: AnyJobMessage): Promise<WorkerResult> {
  try {
    return await runHere(message);
  } catch (error) {
    // The server pinned a version this worker's polls have not picked up yet, or not checked
    // yet (it was dropped in a moment ago): look at the folder now, once, and run it.
    const unseen =
      error instanceof TfliteFnError &&
      ['unknown_model', 'unknown_version', 'model_not_ready'].includes(error.code);
    if (
      !repository ||
      message.type === 'unload' ||
      message.model === undefined ||
      message.modelVersion === undefined ||
      !unseen
    )
      throw error;
    await repository.load(message.model);
    return runHere(message);
  }
}

/** The batch counts to send with a reply, once this worker has batched at all. */
function batching(): { batching?: BatchCounts } {
  const counts = batchCounts();
  return counts.batches > 0 ? { batching: counts } : {};
}

/** Large payloads arrive in pieces ahead of their job (job-pieces.ts), put back together here. */
const assembler = new JobAssembler();

if (await load()) {
  process.on('message', (received: ServerMessage) => {
    if (received.type === 'chunk') return assembler.add(received);
    const message = assembler.complete(received);
    run(message).then(
      (result) => send({ type: 'result', id: message.id, result, ...batching() }),
      (error: unknown) => send({ type: 'error', id: message.id, error: serialize(error), ...batching() }),
    );
  });
}
