/**
 * A server worker process: loads and warms its models, then runs the jobs the server sends
 * (any task's, see protocol.ts).
 * One process per core, each on one inference thread, so a crash (or a kill) costs one worker,
 * not the server.
 */
// First of all, before the imports below start native threads: the server must keep the CPU
// over its workers (see pool.ts's lanes).
import './worker-priority.js';
import { type BatchCounts, batchCounts } from '../../src/batch/batcher.js';
import { batchingFor } from '../../src/batch/settings.js';
import { TfliteFnError, toTfliteFnError } from '../../src/errors.js';
import { runJobHere } from '../../src/http/task-job.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { repositoryFromEnv } from '../../src/model/repository-env.js';
import type {
  ImageChunkMessage,
  JobMessage,
  JobResult,
  SerializedError,
  ServerMessage,
  WorkerMessage,
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
const preload = (process.env.TFLITE_FN_PRELOAD ?? catalog.defaultModel)
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

/** Any task's job: the task run on the image, and the picture drawn here when one is asked for. */
async function run(message: JobMessage): Promise<JobResult> {
  try {
    return await runJobHere(message, catalog, repository);
  } catch (error) {
    // The server pinned a version this worker's polls have not picked up yet, or not checked
    // yet (it was dropped in a moment ago): look at the folder now, once, and run it.
    const unseen =
      error instanceof TfliteFnError &&
      ['unknown_model', 'unknown_version', 'model_not_ready'].includes(error.code);
    if (!repository || message.model === undefined || message.modelVersion === undefined || !unseen)
      throw error;
    await repository.load(message.model);
    return runJobHere(message, catalog, repository);
  }
}

/** The batch counts to send with a reply, once this worker has batched at all. */
function batching(): { batching?: BatchCounts } {
  const counts = batchCounts();
  return counts.batches > 0 ? { batching: counts } : {};
}

/** Large images arrive in pieces ahead of their job (protocol.ts), assembled here by job id. */
const arriving = new Map<number, { image: Buffer; filled: number }>();

function assemble(chunk: ImageChunkMessage): void {
  const entry = arriving.get(chunk.id) ?? { image: Buffer.allocUnsafe(chunk.total), filled: 0 };
  arriving.set(chunk.id, entry);
  entry.image.set(chunk.bytes, entry.filled);
  entry.filled += chunk.bytes.length;
}

function withImage(message: JobMessage): JobMessage {
  if (!message.chunked) return message;
  const entry = arriving.get(message.id);
  arriving.delete(message.id);
  return { ...message, image: entry?.image.subarray(0, entry.filled) ?? new Uint8Array(0) };
}

if (await load()) {
  process.on('message', (received: ServerMessage) => {
    if (received.type === 'chunk') return assemble(received);
    const message = withImage(received);
    run(message).then(
      (result) => send({ type: 'result', id: message.id, result, ...batching() }),
      (error: unknown) => send({ type: 'error', id: message.id, error: serialize(error), ...batching() }),
    );
  });
}
