/**
 * The models a process knows: built-in descriptors plus any folders the user adds. Each model
 * is loaded at most once per process, on first use, and shared by every request after that.
 */

import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { BatchingOptions, DeclaredBatching } from '../batch/settings.js';
import { DEFAULT_MODEL } from '../config/index.js';
import { type EngineSetting, parseEngineSetting, plannedEngine } from '../engine/select.js';
import { DescriptorError, ModelLoadError, TfliteFnError, UnknownModelError } from '../errors.js';
import { builtinDescriptorDir, extraDescriptorDirs, modelCacheDir } from '../store/paths.js';
import { taskById } from '../tasks/index.js';
import type { LoadedModel } from '../tasks/task.js';
import { type FileRef, type ModelDescriptor, readDescriptor, staysInItsFolder } from './descriptor.js';
import { loadModel } from './load.js';
import { withHostPath } from './model-file.js';
import { pinnedServedKey } from './served-model.js';

export interface CatalogEntry {
  readonly id: string;
  readonly descriptorPath: string;
  readonly builtin: boolean;
  /** Set when the descriptor is valid. */
  readonly descriptor?: ModelDescriptor;
  /** Set when it is not: the model is listed, and using it reports every problem. */
  readonly error?: DescriptorError;
}

export interface CatalogOptions {
  /** Descriptor folders after the built-in one; later folders override earlier ids. */
  readonly dirs?: readonly string[];
  /** Warm each model up when it loads (default true; one-shot CLI runs turn it off). */
  readonly warmUp?: boolean;
  /** Model used when a request names none. */
  readonly defaultModel?: string;
  /** Which engine runs the models (default: TFLITE_FN_ENGINE, else auto). */
  readonly engine?: EngineSetting;
  /** Each model's dynamic batching (src/batch/settings.ts); none: every model runs alone. */
  readonly batching?: (id: string, declared: DeclaredBatching | undefined) => BatchingOptions;
}

export const BUILTIN_DEFAULT_MODEL = DEFAULT_MODEL.fallback();

/** `file: npm:<package>/<path>` names a file shipped in an npm package (installed with ours). */
const NPM_PREFIX = 'npm:';
const require = createRequire(import.meta.url);

function listDescriptorFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/i.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** Whether `path`, with every symbolic link followed, is inside `folder` (links followed too). */
function isInside(folder: string, path: string): boolean {
  const root = realpathSync(folder);
  return realpathSync(path).startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The refusal of a `file:` outside its folder. The message names the model and the file as
 * its descriptor writes it, never a host path (it reaches HTTP clients); the path is in `cause`.
 */
function leavesItsFolder(entry: CatalogEntry, ref: FileRef, found?: string): ModelLoadError {
  const how = found
    ? 'is a link to a file outside its folder'
    : "leaves its folder ('..' or an absolute path)";
  return new ModelLoadError(
    `model '${entry.id}': file '${ref.file}' ${how}; a model's files must be inside its descriptor's folder or the set-up cache`,
    { cause: withHostPath('file outside its folder', found ?? entry.descriptorPath) },
  );
}

export class ModelCatalog {
  readonly defaultModel: string;
  readonly #entries = new Map<string, CatalogEntry>();
  readonly #loaded = new Map<string, Promise<LoadedModel<unknown>>>();
  readonly #warmUp: boolean;
  readonly #batching: CatalogOptions['batching'];
  readonly engine: EngineSetting;

  constructor(options: CatalogOptions = {}) {
    this.#warmUp = options.warmUp ?? true;
    this.#batching = options.batching;
    this.engine = options.engine ?? parseEngineSetting();
    this.defaultModel = options.defaultModel ?? DEFAULT_MODEL.value();
    const builtin = builtinDescriptorDir();
    const dirs = [builtin, ...extraDescriptorDirs(), ...(options.dirs ?? [])];
    for (const dir of dirs) {
      for (const path of listDescriptorFiles(dir)) this.#add(path, dir === builtin);
    }
  }

  #add(path: string, builtin: boolean): void {
    try {
      const descriptor = readDescriptor(path);
      this.#entries.set(descriptor.id, { id: descriptor.id, descriptorPath: path, builtin, descriptor });
    } catch (error) {
      if (!(error instanceof DescriptorError)) throw error;
      const id = path.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
      this.#entries.set(id, { id, descriptorPath: path, builtin, error });
    }
  }

  entries(): CatalogEntry[] {
    return [...this.#entries.values()];
  }

  /** The entry for `id` (or the default model), with a valid descriptor, or the error that says why not. */
  entry(id: string = this.defaultModel): CatalogEntry & { descriptor: ModelDescriptor } {
    const entry = this.#entries.get(id);
    if (!entry) throw new UnknownModelError(id, [...this.#entries.keys()]);
    if (entry.error || !entry.descriptor)
      throw entry.error ?? new TfliteFnError(500, 'internal_error', 'no descriptor');
    return entry as CatalogEntry & { descriptor: ModelDescriptor };
  }

  /**
   * Where a file of a model is: beside its descriptor if it is there (user models ship that
   * way), else in the set-up cache (where built-in models are fetched to). Deny by default: a
   * `file:` that climbs out ('..', an absolute path) or a symbolic link that points out of the
   * folder it was found in is refused here, before anything reads it.
   */
  locate(entry: CatalogEntry, ref: FileRef): { path: string; candidates: string[] } {
    if (!staysInItsFolder(ref.file)) throw leavesItsFolder(entry, ref);
    if (ref.file.startsWith(NPM_PREFIX)) {
      // A file shipped inside an npm package: looked up where Node would look for the package.
      // (Not checked for links: package managers such as pnpm link packages into a store.)
      const inPackage = ref.file.slice(NPM_PREFIX.length);
      const candidates = (require.resolve.paths(inPackage) ?? []).map((dir) => join(dir, inPackage));
      const found = candidates.find((candidate) => existsSync(candidate));
      return { path: found ?? (candidates[0] as string), candidates };
    }
    const folders = [dirname(entry.descriptorPath), modelCacheDir()];
    const candidates = folders.map((folder) => join(folder, ref.file));
    const at = candidates.findIndex((candidate) => existsSync(candidate));
    if (at >= 0 && !isInside(folders[at] as string, candidates[at] as string)) {
      throw leavesItsFolder(entry, ref, candidates[at]);
    }
    return { path: candidates[at] ?? (candidates[candidates.length - 1] as string), candidates };
  }

  /**
   * The model a request for `task` runs when it names none: the catalog's default model when
   * it is one of that task's (TFLITE_FN_DEFAULT_MODEL=birds makes birds classify's default),
   * else the task's own default.
   */
  defaultModelFor(task: { readonly id: string; readonly defaultModel: string }): string {
    const entry = this.#entries.get(this.defaultModel);
    return entry?.descriptor?.task === task.id ? this.defaultModel : task.defaultModel;
  }

  /**
   * Loads the model once, whatever its task; concurrent callers share one load. A failed load
   * is retried next time. The state is the model's task's (see Task.prepareModel).
   */
  load(id: string = this.defaultModel): Promise<LoadedModel<unknown>> {
    let loading = this.#loaded.get(id);
    if (!loading) {
      const entry = this.entry(id);
      const descriptor = entry.descriptor;
      const task = taskById(descriptor.task);
      const labels = task.labelsOf?.(descriptor);
      const files = {
        model: this.locate(entry, descriptor.model).path,
        labels: labels ? this.locate(entry, labels).path : undefined,
      };
      loading = loadModel(task, descriptor, files, {
        warmUp: this.#warmUp,
        engine: this.engine,
        pinChecked: entry.builtin,
        ...(this.#batching ? { batching: this.#batching(id, descriptor.batch) } : {}),
      });
      this.#loaded.set(id, loading);
      loading.catch(() => this.#loaded.delete(id));
    }
    return loading;
  }

  /**
   * The engine a model would run on, decided without loading it (from its pinned sha256 and
   * the stored conversion report): lets a cold start warm up only the engine it will use.
   */
  plannedEngine(id: string = this.defaultModel): ReturnType<typeof plannedEngine> {
    const key = pinnedServedKey(this.entry(id).descriptor.model);
    if (!key)
      return { engine: this.engine === 'ort' ? 'ort' : 'litert', reason: 'no pinned sha256', ready: true };
    return plannedEngine(key, this.engine);
  }

  /** Whether `id` has been loaded (or is loading) in this process. */
  isLoaded(id: string): boolean {
    return this.#loaded.has(id);
  }

  /** Frees every loaded model's engine memory. */
  async dispose(): Promise<void> {
    const loads = [...this.#loaded.values()];
    this.#loaded.clear();
    for (const result of await Promise.allSettled(loads)) {
      if (result.status === 'fulfilled') result.value.engine.dispose();
    }
  }
}

let shared: ModelCatalog | undefined;

/** The process-wide catalog used when a caller passes none (built from the environment). */
export function defaultCatalog(): ModelCatalog {
  shared ??= new ModelCatalog();
  return shared;
}
