/**
 * Where the Open Inference Protocol routes find their models: a ModelSource lists models with
 * their versions and resolves one for a request. The catalog is one source (every catalog
 * model as version "1"); a model repository (src/model/repository.ts) is another, with real
 * versions that come and go while the server runs. The /v2 handlers see only this contract.
 */
import type { EngineName } from '../engine/select.js';
import { shown, TfliteFnError } from '../errors.js';
import type { ModelCatalog } from '../model/catalog.js';
import type { LoadedModel } from '../tasks/task.js';

export type ModelState = 'READY' | 'UNAVAILABLE' | 'LOADING';

export interface ModelVersionInfo {
  readonly version: string;
  readonly state: ModelState;
  readonly reason?: string;
}

export interface ModelIndexEntry {
  readonly name: string;
  readonly versions: readonly ModelVersionInfo[];
  /** Unloaded through the repository API: not meant to serve until loaded again. */
  readonly unloaded?: true;
}

export interface ResolvedModel {
  readonly name: string;
  readonly version: string;
  readonly state: ModelState;
  readonly reason?: string;
  /**
   * Identifies what the version is made of, when it can change in place (a repository version's
   * files): equal keys, same model. None for a model fixed for the life of the process.
   */
  readonly contentKey?: string;
  /**
   * The engine the version is planned to run on, when the source knows it without loading it
   * (a repository whose versions load in other processes): it changes when a conversion is
   * stored, and with contentKey it is what the version's signature is made of.
   */
  readonly engine?: EngineName;
  /** The loaded model (LoadedModel<unknown> from src/model/load.ts); rejects when not ready. */
  load(): Promise<LoadedModel<unknown>>;
  /** Called when the request is done: a version removed meanwhile is freed after its last user. */
  release(): void;
}

export interface ModelSource {
  /** Every model with its versions, oldest first. */
  index(): Promise<readonly ModelIndexEntry[]>;
  /** A version, or the newest ready one; TfliteFnError 404 when the name/version is unknown. */
  resolve(name: string, version?: string): Promise<ResolvedModel>;
}

/** The one version a catalog model has: the catalog holds one file per model id. */
export const CATALOG_VERSION = '1';

/**
 * Every model of the catalog, each as version "1". A valid descriptor is READY: the catalog
 * loads a model on its first use (and a failed load says why, as the task routes do). An
 * invalid descriptor is UNAVAILABLE with the descriptor's problems as the reason.
 */
export function catalogSource(catalog: ModelCatalog): ModelSource {
  const versionOf = (id: string): ModelVersionInfo => {
    const entry = catalog.entries().find((candidate) => candidate.id === id);
    if (entry?.descriptor) return { version: CATALOG_VERSION, state: 'READY' };
    return {
      version: CATALOG_VERSION,
      state: 'UNAVAILABLE',
      reason: entry?.error?.message ?? 'unknown model',
    };
  };
  return {
    async index() {
      return catalog.entries().map((entry) => ({ name: entry.id, versions: [versionOf(entry.id)] }));
    },
    async resolve(name, version) {
      // Throws UnknownModelError (404) for a name the catalog does not hold.
      if (!catalog.entries().some((entry) => entry.id === name)) catalog.entry(name);
      if (version !== undefined && version !== CATALOG_VERSION)
        throw new TfliteFnError(
          404,
          'unknown_version',
          `model '${name}' has no version '${shown(version)}'; versions: ${CATALOG_VERSION}`,
        );
      const info = versionOf(name);
      return {
        name,
        ...info,
        // async: a synchronous throw of the catalog (an invalid descriptor) becomes a rejection.
        load: async () => catalog.load(name),
        // The catalog keeps its models for the life of the process: nothing to free.
        release: () => undefined,
      };
    },
  };
}
