/**
 * The repository extension of the Open Inference Protocol (Triton's model repository API):
 *
 *   POST /v2/repository/index                 every model version with its state (and reason);
 *                                             body {"ready": true} lists only READY ones
 *   POST /v2/repository/models/{name}/load    (re)load a model now; 200 once every version has
 *                                             settled, 400 {"error"} when none could be loaded
 *   POST /v2/repository/models/{name}/unload  free a model (after its running requests) until
 *                                             it is loaded again; polling does not bring it back
 *
 * Over a model repository (src/model/repository.ts) all three work. Over the catalog (a
 * deployment without a repository) the index lists the catalog, and load/unload say that the
 * catalog's models cannot be loaded or unloaded by request (400).
 */
import type { Context } from 'hono';
import { BadRequestError, type TfliteFnError } from '../errors.js';
import { readBodyCapped } from '../http/read-request.js';
import type { RepositoryRouteId } from '../http/routes.js';
import type { ModelSource, ModelVersionInfo } from '../oip/model-source.js';
import { ModelRepository } from './repository.js';

type Handler = (c: Context) => Response | Promise<Response>;

/** An index request is a few bytes of JSON. */
const INDEX_BODY_LIMIT = { maxBytes: 64 * 1024, description: 'a repository index request is at most 64 KiB' };

/** One line of the index: a model version (a model without versions is listed by its name). */
export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: ModelVersionInfo['state'];
  readonly reason?: string;
}

async function readReadyFilter(request: Request): Promise<boolean> {
  const body = await readBodyCapped(request, INDEX_BODY_LIMIT);
  if (body.length === 0) return false;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new BadRequestError(
      'bad_request',
      'the repository index request must be JSON, e.g. {"ready": true}',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BadRequestError('bad_request', 'the repository index request must be a JSON object');
  const ready = (value as { ready?: unknown }).ready;
  if (ready !== undefined && typeof ready !== 'boolean')
    throw new BadRequestError('bad_request', "'ready' must be true or false");
  return ready === true;
}

export async function repositoryIndex(source: ModelSource, readyOnly: boolean): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const model of await source.index()) {
    if (model.versions.length === 0 && !readyOnly)
      entries.push({
        name: model.name,
        state: 'UNAVAILABLE',
        reason: 'no version folder with a model.tflite',
      });
    for (const version of model.versions) {
      if (readyOnly && version.state !== 'READY') continue;
      entries.push({ name: model.name, ...version });
    }
  }
  return entries;
}

function repositoryOf(source: ModelSource): ModelRepository {
  if (source instanceof ModelRepository) return source;
  throw new BadRequestError(
    'not_a_repository',
    'this deployment serves its model catalog, whose models are not loaded or unloaded by request; start it with a model repository (--model-repository, TFLITE_FN_MODEL_REPOSITORY)',
  );
}

/** Protocol errors say what failed; a load that left no version ready is the model's failure. */
function loadFailure(name: string, versions: readonly ModelVersionInfo[]): TfliteFnError {
  const reasons = versions.map((version) => `version ${version.version}: ${version.reason ?? version.state}`);
  return new BadRequestError(
    'model_load_failed',
    `failed to load '${name}': ${reasons.join('; ') || 'it has no version folder with a model.tflite'}`,
  );
}

/** The handlers, by route id; `guard` turns thrown errors into the protocol's error answers. */
export function repositoryHandlers(
  source: ModelSource,
  guard: (handler: Handler) => Handler,
): Record<RepositoryRouteId, Handler> {
  return {
    'oip-repository-index': guard(async (c) =>
      c.json(await repositoryIndex(source, await readReadyFilter(c.req.raw))),
    ),
    'oip-repository-load': guard(async (c) => {
      const name = c.req.param('name') as string;
      const versions = await repositoryOf(source).load(name);
      if (!versions.some((version) => version.state === 'READY')) throw loadFailure(name, versions);
      return new Response(null, { status: 200 });
    }),
    'oip-repository-unload': guard(async (c) => {
      await repositoryOf(source).unload(c.req.param('name') as string);
      return new Response(null, { status: 200 });
    }),
  };
}
