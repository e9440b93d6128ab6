/**
 * A model repository: a folder in the Triton/KServe layout (repository-layout.ts) served as a
 * ModelSource (src/oip/model-source.ts), watched by polling so models and versions dropped in,
 * changed or removed are picked up without a restart.
 *
 *   - Every version is checked and loaded on its own (repository-version.ts, then the one
 *     loader src/model/load.ts, on the engine the catalog would pick: onnxruntime where a
 *     verified conversion of that sha256 is stored, LiteRT otherwise). A bad file makes that
 *     version UNAVAILABLE with its reason; the others keep serving. A process that serves
 *     what others run (the server's main process) checks here and has the load done there
 *     (RepositoryOptions.loadElsewhere): it never opens an engine session itself.
 *   - A file seen new or changed is loaded once two polls in a row agree on its size, mtime and
 *     inode, so a copy in progress is not loaded half-written; should it be anyway (a slow
 *     copy), it fails the checks, and is checked again when it changes. A change whose content
 *     (sha256 of model, config, labels) is the same reloads nothing.
 *   - A request holds the copy it resolved (Generation) until it releases it: a version changed
 *     or removed meanwhile serves that request to its end and is freed after it.
 * Loads run one at a time: they are CPU work, and the serving process has requests to answer.
 */
import { statSync } from 'node:fs';
import type { BatchingOptions, DeclaredBatching } from '../batch/settings.js';
import { type Env, REPOSITORY_POLL_MS } from '../config/index.js';
import { type EngineName, type EngineSetting, parseEngineSetting, plannedEngine } from '../engine/select.js';
import {
  BadRequestError,
  shown,
  TfliteFnError,
  toTfliteFnError,
  UnavailableError,
  UnknownModelError,
} from '../errors.js';
import type {
  ModelIndexEntry,
  ModelSource,
  ModelState,
  ModelVersionInfo,
  ResolvedModel,
} from '../oip/model-source.js';
import { taskById } from '../tasks/index.js';
import type { LoadedModel } from '../tasks/task.js';
import { readFileCapped } from '../util/read-capped.js';
import type { ModelDescriptor } from './descriptor.js';
import { loadModel } from './load.js';
import { MAX_CONFIG_BYTES, policyFromConfig } from './repository-config.js';
import { Generation } from './repository-generation.js';
import {
  CONFIG_FILE,
  type ModelScan,
  scanRepository,
  stampKey,
  type VersionScan,
} from './repository-layout.js';
import { ALL_VERSIONS, describePolicy, servedVersions, type VersionPolicy } from './repository-policy.js';
import { type PreparedVersion, prepareVersion } from './repository-version.js';
import { pinnedServedKey, servedModelKey } from './served-model.js';

export interface RepositoryOptions {
  /** How often the folder is polled for changes; 0 turns polling off. Default: TFLITE_FN_REPOSITORY_POLL_MS, else 500. */
  readonly pollMs?: number;
  /** Which engine runs the models (default: TFLITE_FN_ENGINE, else auto). */
  readonly engine?: EngineSetting;
  /** Warm each version up when it loads (default true). */
  readonly warmUp?: boolean;
  /** Where loads, failures and refused entries are reported. */
  readonly log?: (event: Record<string, unknown>) => void;
  /**
   * Check versions as they appear, but load each on its first use (default false: load at
   * once, so READY means loaded). For processes that serve what another one decides: the
   * server's workers, which run only the models task requests name.
   */
  readonly loadOnUse?: boolean;
  /** Each model's dynamic batching (src/batch/settings.ts); none: every run alone. */
  readonly batching?: (name: string, declared: DeclaredBatching | undefined) => BatchingOptions;
  /**
   * Loads each checked version elsewhere instead of here: the server's main process has its
   * workers load it, and holds no engine of its own. The version is READY once this resolves,
   * UNAVAILABLE with the error's reason when it rejects; a 503 (no worker able yet, all busy)
   * leaves it as it was and it is tried again at the next poll. Resolving models here still
   * works (versions, their state, holding a version while a request runs), loading them not.
   */
  readonly loadElsewhere?: (target: LoadTarget) => Promise<void>;
  /** Where the repository API's unload frees the copies loaded elsewhere (the server's workers). */
  readonly unloadElsewhere?: (name: string) => Promise<void>;
}

/** A checked version as another process is asked to load it: equal contentKey, same files. */
export interface LoadTarget {
  readonly name: string;
  readonly version: string;
  readonly contentKey: string;
}

const UNLOADED = 'unloaded through the repository API';

/** Default poll (src/config/variables.ts says why). */
export const DEFAULT_POLL_MS = REPOSITORY_POLL_MS.fallback();

export function repositoryPollMs(env: Env = process.env): number {
  return REPOSITORY_POLL_MS.value(env);
}

interface VersionRecord {
  readonly version: string;
  /** The stamps the last scan saw, and the ones last acted on. */
  seen: string;
  done: string | undefined;
  state: ModelState;
  reason: string | undefined;
  current: Generation | undefined;
  /** Bumped whenever work started for this version is overtaken (a change, a removal, unload). */
  token: number;
  /** The check-and-load in progress, if any. */
  pending: Promise<void> | undefined;
  /**
   * The served model's key while it runs on LiteRT for want of a verified conversion: each
   * poll asks whether one has been stored since (tflite-fn convert --model-repository), and
   * reloads the version on onnxruntime when it has.
   */
  awaitsConversion: string | undefined;
  /** The descriptor its last check produced (task, input), for GET /models. */
  described: ModelDescriptor | undefined;
  /** Checked, but the process loading it elsewhere could not take it yet: asked again at the next poll. */
  unconfirmed: PreparedVersion | undefined;
}

/** A repository model as GET /models lists it: its task and input as its newest checked version says. */
export interface RepositoryModelInfo {
  readonly id: string;
  readonly task?: string;
  readonly title?: string;
  readonly input?: { readonly width: number; readonly height: number };
  readonly versions: readonly ModelVersionInfo[];
}

interface ModelRecord {
  readonly name: string;
  scan: ModelScan;
  readonly versions: Map<string, VersionRecord>;
  /** Unloaded through the repository API: not loaded again until asked to. */
  unloaded: boolean;
}

/** The stamps a version depends on: its model file and the model folder's files (config, labels). */
function versionKey(model: ModelScan, version: VersionScan): string {
  if ('problem' in version.model) return `problem:${version.model.problem}`;
  const shared = [...model.files].map(([name, stamp]) => `${name}=${stampKey(stamp)}`).join(',');
  return `${stampKey(version.model.ok)}|${shared}`;
}

/** What a client is told about a failure: the message when it may be shown. */
function reasonOf(error: unknown): string {
  const failure = toTfliteFnError(error);
  return failure.expose ? failure.message : 'internal error while loading the model';
}

export class ModelRepository implements ModelSource {
  readonly dir: string;
  /** How often the folder is polled; 0: never (it is read once). */
  readonly pollMs: number;
  readonly #models = new Map<string, ModelRecord>();
  readonly #engine: EngineSetting;
  readonly #warmUp: boolean;
  readonly #loadOnUse: boolean;
  readonly #batching: RepositoryOptions['batching'];
  readonly #loadElsewhere: RepositoryOptions['loadElsewhere'];
  readonly #unloadElsewhere: RepositoryOptions['unloadElsewhere'];
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #refusedLogged = new Set<string>();
  /** Each model's version policy and the config stamp it was read from. */
  readonly #policies = new Map<string, { readonly key: string; readonly policy: VersionPolicy }>();
  readonly #timer: NodeJS.Timeout | undefined;
  /** Scans run one at a time, loads one at a time. */
  #scans: Promise<void>;
  /**
   * What index and resolve wait for: the first scan only. A later poll updates the state in
   * one synchronous step when its stats are in, so requests never wait for a poll's syscalls.
   */
  readonly #firstScan: Promise<void>;
  #work: Promise<void> = Promise.resolve();
  #closed = false;
  #scanError: string | undefined;

  constructor(dir: string, options: RepositoryOptions = {}) {
    this.dir = dir;
    this.#engine = options.engine ?? parseEngineSetting();
    this.#warmUp = options.warmUp ?? true;
    this.#loadOnUse = options.loadOnUse ?? false;
    this.#batching = options.batching;
    this.#loadElsewhere = options.loadElsewhere;
    this.#unloadElsewhere = options.unloadElsewhere;
    this.#log = options.log ?? (() => undefined);
    this.#scans = this.#scan({ settled: true });
    this.#firstScan = this.#scans;
    this.pollMs = options.pollMs ?? repositoryPollMs();
    if (this.pollMs > 0) {
      this.#timer = setInterval(() => void this.poll(), this.pollMs);
      this.#timer.unref();
    }
  }

  /** One scan now (after any running one); new or changed files are loaded once they hold still. */
  poll(): Promise<void> {
    if (this.#closed) return this.#scans;
    this.#scans = this.#scans.then(() => this.#scan({ settled: false }));
    return this.#scans;
  }

  /** Resolves when the scans and loads started so far are done (tests, start-up). */
  async settled(): Promise<void> {
    for (;;) {
      const scans = this.#scans;
      const work = this.#work;
      await scans;
      await work;
      if (scans === this.#scans && work === this.#work) return;
    }
  }

  async #scan(how: { settled: boolean; force?: string }): Promise<void> {
    let scan: Awaited<ReturnType<typeof scanRepository>>;
    try {
      scan = await scanRepository(this.dir);
    } catch (error) {
      // The folder gone (an unmounted volume): the loaded models keep serving, and the log says
      // so once, not at every poll.
      const message = String(error);
      if (message !== this.#scanError)
        this.#log({ level: 'error', msg: 'model repository cannot be read', error: message });
      this.#scanError = message;
      return;
    }
    this.#scanError = undefined;
    if (this.#closed) return;
    for (const refused of scan.refused) {
      if (this.#refusedLogged.has(refused)) continue;
      // Bounded: names that keep changing would otherwise grow it forever (at worst, logged again).
      if (this.#refusedLogged.size >= 1000) this.#refusedLogged.clear();
      this.#refusedLogged.add(refused);
      this.#log({ level: 'warn', msg: 'model repository entry refused', reason: refused });
    }
    // Read before the update below, so the update stays one synchronous step.
    const policies = new Map<string, VersionPolicy>();
    for (const model of scan.models) policies.set(model.name, await this.#policyOf(model));
    if (this.#closed) return;
    const present = new Set(scan.models.map((model) => model.name));
    for (const [name, record] of this.#models) {
      if (present.has(name)) continue;
      for (const version of record.versions.values()) this.#remove(record, version);
      this.#models.delete(name);
      this.#policies.delete(name);
    }
    for (const model of scan.models) {
      const policy = policies.get(model.name) ?? ALL_VERSIONS;
      this.#update(model, policy, how.settled || how.force === model.name, how.force === model.name);
    }
  }

  /** The model's version policy, its config.yaml read again only when it has changed. */
  async #policyOf(model: ModelScan): Promise<VersionPolicy> {
    const config = model.files.get(CONFIG_FILE);
    const key = stampKey(config);
    const known = this.#policies.get(model.name);
    if (known?.key === key) return known.policy;
    let text: string | undefined;
    if (config) {
      try {
        const bytes = await readFileCapped(config.path, { maxBytes: MAX_CONFIG_BYTES });
        text = new TextDecoder().decode(bytes);
      } catch {
        // Unreadable or too large: each version's check says so.
      }
    }
    const policy = policyFromConfig(model.name, text);
    this.#policies.set(model.name, { key, policy });
    return policy;
  }

  #update(scan: ModelScan, policy: VersionPolicy, settled: boolean, forced: boolean): void {
    let record = this.#models.get(scan.name);
    if (!record) {
      record = { name: scan.name, scan, versions: new Map(), unloaded: false };
      this.#models.set(scan.name, record);
    }
    record.scan = scan;
    const present = new Set(scan.versions.map((version) => version.version));
    for (const version of record.versions.values()) {
      if (!present.has(version.version)) this.#remove(record, version);
    }
    const served = servedVersions(
      policy,
      scan.versions.map((version) => version.version),
    );
    for (const listed of scan.versions) {
      // A version the policy leaves out is handled as a version with a problem: not read.
      const found: VersionScan = served.has(listed.version)
        ? listed
        : {
            version: listed.version,
            model: {
              problem: `not served: the version policy in ${scan.name}/${CONFIG_FILE} is ${describePolicy(policy)}`,
            },
          };
      let version = record.versions.get(found.version);
      if (!version) {
        version = {
          version: found.version,
          seen: '',
          done: undefined,
          // A version appearing in an unloaded model waits, unloaded, for the model's load.
          state: record.unloaded ? 'UNAVAILABLE' : 'LOADING',
          reason: record.unloaded ? UNLOADED : undefined,
          current: undefined,
          token: 0,
          pending: undefined,
          awaitsConversion: undefined,
          described: undefined,
          unconfirmed: undefined,
        };
        record.versions.set(found.version, version);
      }
      const key = versionKey(scan, found);
      const changed = key !== version.done || (forced && !version.current);
      // Acted on when two scans agree (the file holds still), or at once on start and when asked.
      if (changed && !record.unloaded && (settled || key === version.seen))
        this.#check(record, version, found, key);
      else if (!changed && this.#conversionStored(version)) this.#check(record, version, found, key, true);
      else if (!changed && version.unconfirmed && !record.unloaded)
        this.#check(record, version, found, key, true, version.unconfirmed);
      version.seen = key;
    }
  }

  #remove(record: ModelRecord, version: VersionRecord): void {
    version.token++;
    version.current?.retire();
    version.current = undefined;
    record.versions.delete(version.version);
    this.#log({ msg: 'model version removed', model: record.name, version: version.version });
  }

  #setState(record: ModelRecord, version: VersionRecord, state: ModelState, reason?: string): void {
    version.state = state;
    version.reason = reason;
    if (state !== 'LOADING')
      this.#log({
        level: reason && state !== 'READY' ? 'warn' : 'info',
        msg: 'model version',
        model: record.name,
        version: version.version,
        state,
        ...(reason ? { reason } : {}),
      });
  }

  /** Whether a verified conversion has appeared for a version that runs on LiteRT without one. */
  #conversionStored(version: VersionRecord): boolean {
    if (version.awaitsConversion === undefined || !version.current || version.current.retired) return false;
    const plan = plannedEngine(version.awaitsConversion, this.#engine);
    if (plan.engine !== 'ort' || !plan.ready) return false;
    version.awaitsConversion = undefined;
    return true;
  }

  /**
   * The engine a version loaded elsewhere will run on, as the plan says (the process loading it
   * plans the same way, on the same cache): it is part of what the version's signature is made
   * of. One planned on LiteRT for want of a conversion is watched, as one loaded here is, and
   * checked again once a conversion is stored, so its planned engine follows.
   */
  #plannedElsewhere(
    version: VersionRecord,
    prepared: PreparedVersion,
    token: number,
  ): EngineName | undefined {
    const key = pinnedServedKey(prepared.descriptor.model);
    if (key === undefined) return undefined;
    const { engine } = plannedEngine(key, this.#engine);
    if (token === version.token)
      version.awaitsConversion = engine === 'litert' && this.#engine !== 'litert' ? key : undefined;
    return engine;
  }

  /** Loads a checked version on the engine the plan picks; notes whether it waits for a conversion. */
  async #load(
    record: ModelRecord,
    version: VersionRecord,
    prepared: PreparedVersion,
    token: number,
  ): Promise<LoadedModel<unknown>> {
    const loaded = await loadModel(taskById(prepared.descriptor.task), prepared.descriptor, prepared.files, {
      warmUp: this.#warmUp,
      engine: this.#engine,
      pinChecked: false,
      ...(this.#batching ? { batching: this.#batching(record.name, prepared.descriptor.batch) } : {}),
    });
    const { sha256, outputs } = prepared.descriptor.model;
    if (token === version.token)
      version.awaitsConversion =
        loaded.engineName === 'litert' && this.#engine !== 'litert' && sha256 !== undefined
          ? servedModelKey(sha256, outputs)
          : undefined;
    this.#log({
      msg: 'model version loaded',
      model: record.name,
      version: version.version,
      engine: loaded.engineName,
      loadMs: Math.round(loaded.loadMs),
    });
    return loaded;
  }

  /** Checks and loads a version (queued behind other loads); overtaken work is dropped. */
  #check(
    record: ModelRecord,
    version: VersionRecord,
    found: VersionScan,
    key: string,
    reload = false,
    checked: PreparedVersion | undefined = undefined,
  ): void {
    version.done = key;
    version.unconfirmed = undefined;
    const token = ++version.token;
    if ('problem' in found.model) {
      version.current?.retire();
      version.current = undefined;
      this.#setState(record, version, 'UNAVAILABLE', found.model.problem);
      return;
    }
    const stamp = found.model.ok;
    if (!version.current) this.#setState(record, version, 'LOADING');
    const job = async () => {
      if (token !== version.token || this.#closed) return;
      try {
        const prepared =
          checked ??
          (await prepareVersion({
            root: record.scan.root,
            name: record.name,
            version: version.version,
            folder: record.scan.folder,
            model: stamp,
            config: record.scan.files.get(CONFIG_FILE),
          }));
        if (token !== version.token) return;
        version.described = prepared.descriptor;
        const current = version.current;
        const same = current && !current.retired && current.contentKey === prepared.contentKey;
        if (same && !reload) return; // touched only
        const generation = this.#generation(record, version, prepared, token);
        if (this.#loadElsewhere) {
          const target = { name: record.name, version: version.version, contentKey: prepared.contentKey };
          if (!(await this.#loadedElsewhere(version, target, prepared, token))) return;
        } else if (!this.#loadOnUse) await generation.loaded;
        if (token !== version.token || this.#closed) {
          generation.retire();
          return;
        }
        version.current?.retire();
        version.current = generation;
        this.#setState(record, version, 'READY');
      } catch (error) {
        if (token !== version.token) return;
        version.current?.retire();
        version.current = undefined;
        this.#setState(record, version, 'UNAVAILABLE', reasonOf(error));
      }
    };
    const run = this.#work.then(job);
    this.#work = run;
    version.pending = run;
  }

  /** A copy of a checked version, loaded here (at once or on use), or only held here when loaded elsewhere. */
  #generation(
    record: ModelRecord,
    version: VersionRecord,
    prepared: PreparedVersion,
    token: number,
  ): Generation {
    const load = this.#loadElsewhere
      ? () =>
          Promise.reject(
            new TfliteFnError(
              500,
              'internal',
              `model '${record.name}' is loaded in another process, not here`,
            ),
          )
      : () => this.#load(record, version, prepared, token);
    const engine = this.#loadElsewhere ? this.#plannedElsewhere(version, prepared, token) : undefined;
    return new Generation(load, prepared.contentKey, engine);
  }

  /**
   * Whether the process loading versions elsewhere has loaded this one. One that could not take
   * it yet (a 503: no worker ready, all busy) leaves the version as it was, to be asked again
   * at the next poll; any other failure is the version's (thrown: UNAVAILABLE with its reason).
   */
  async #loadedElsewhere(
    version: VersionRecord,
    target: LoadTarget,
    prepared: PreparedVersion,
    token: number,
  ): Promise<boolean> {
    try {
      await this.#loadElsewhere?.(target);
      return true;
    } catch (error) {
      if (!(error instanceof TfliteFnError) || error.status !== 503) throw error;
      if (token !== version.token) return false;
      // A copy still serving (the files changed in place) keeps serving meanwhile.
      if (!version.current) version.reason = `waiting to be loaded: ${reasonOf(error)}`;
      version.unconfirmed = prepared;
      this.#log({ level: 'warn', msg: 'model version not loaded yet', ...target, reason: reasonOf(error) });
      return false;
    }
  }

  async index(): Promise<readonly ModelIndexEntry[]> {
    await this.#firstScan;
    return [...this.#models.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((record) => ({
        name: record.name,
        versions: [...record.versions.values()]
          .sort((a, b) => Number(a.version) - Number(b.version))
          .map((version) => ({
            version: version.version,
            state: version.state,
            ...(version.reason ? { reason: version.reason } : {}),
          })),
        ...(record.unloaded ? { unloaded: true as const } : {}),
      }));
  }

  /** Every model with what its newest checked version says about it (GET /models). */
  async models(): Promise<RepositoryModelInfo[]> {
    const index = await this.index();
    return index.map(({ name, versions }) => {
      const records = [...(this.#models.get(name)?.versions.values() ?? [])];
      const described = records
        .filter((version) => version.described)
        .sort((a, b) => Number(b.version) - Number(a.version))[0]?.described;
      if (!described) return { id: name, versions };
      const { task, title, input } = described;
      return {
        id: name,
        task,
        ...(title ? { title } : {}),
        input: { width: input.width, height: input.height },
        versions,
      };
    });
  }

  #record(name: string): ModelRecord {
    const record = this.#models.get(name);
    if (!record) throw new UnknownModelError(name, [...this.#models.keys()].sort());
    return record;
  }

  async resolve(name: string, version?: string): Promise<ResolvedModel> {
    await this.#firstScan;
    const record = this.#record(name);
    const versions = [...record.versions.values()].sort((a, b) => Number(b.version) - Number(a.version));
    const chosen =
      version === undefined
        ? (versions.find((candidate) => candidate.state === 'READY') ?? versions[0])
        : record.versions.get(version);
    if (!chosen) {
      if (version === undefined)
        throw new UnavailableError(
          'model_not_ready',
          `model '${name}' has no version yet (<version>/model.tflite)`,
        );
      throw new TfliteFnError(
        404,
        'unknown_version',
        `model '${name}' has no version '${shown(version)}'; versions: ${
          versions
            .map((v) => v.version)
            .reverse()
            .join(', ') || '(none)'
        }`,
      );
    }
    return this.#resolved(record, chosen);
  }

  /** A handle on the copy serving now; a version still loading is waited for by load(). */
  #resolved(record: ModelRecord, version: VersionRecord): ResolvedModel {
    let generation = version.current;
    generation?.acquire();
    let released = false;
    const notReady = () =>
      new UnavailableError(
        'model_not_ready',
        `model '${record.name}' version ${version.version} is not ready: ${version.reason ?? version.state.toLowerCase()}`,
      );
    return {
      name: record.name,
      version: version.version,
      state: version.state,
      ...(version.reason ? { reason: version.reason } : {}),
      ...(generation ? { contentKey: generation.contentKey } : {}),
      ...(generation?.engine ? { engine: generation.engine } : {}),
      load: async () => {
        if (!generation && version.state === 'LOADING' && version.pending) {
          await version.pending;
          if (released) throw notReady();
          generation = version.current;
          generation?.acquire();
        }
        if (!generation) throw notReady();
        return generation.loaded;
      },
      release: () => {
        if (released) return;
        released = true;
        generation?.release();
      },
    };
  }

  /** The repository API's load: the model's folder scanned now, every version (re)loaded; resolves when done. */
  async load(name: string): Promise<readonly ModelVersionInfo[]> {
    this.#scans = this.#scans.then(() => {
      const record = this.#models.get(name);
      if (record) record.unloaded = false;
      return this.#scan({ settled: false, force: name });
    });
    await this.#scans;
    const record = this.#record(name);
    record.unloaded = false;
    await Promise.all([...record.versions.values()].map((version) => version.pending));
    return (await this.index()).find((model) => model.name === name)?.versions ?? [];
  }

  /**
   * The repository API's unload: every version freed once its requests are done, until load(),
   * here and where versions are loaded elsewhere. Resolves with how many versions had a copy
   * loaded (or loading) here.
   */
  async unload(name: string): Promise<number> {
    await this.#scans;
    const record = this.#record(name);
    record.unloaded = true;
    let freed = 0;
    for (const version of record.versions.values()) {
      if (version.current?.loadStarted) freed++;
      version.token++;
      version.done = undefined;
      version.unconfirmed = undefined;
      version.current?.retire();
      version.current = undefined;
      this.#setState(record, version, 'UNAVAILABLE', UNLOADED);
    }
    await this.#unloadElsewhere?.(name);
    return freed;
  }

  /**
   * Every checked version's `batch:` section (undefined: none), by model name: the server gives
   * each worker a batch's worth of jobs (batch/settings.ts decides what each section means).
   */
  declaredBatches(): { readonly name: string; readonly batch: DeclaredBatching | undefined }[] {
    const found: { readonly name: string; readonly batch: DeclaredBatching | undefined }[] = [];
    for (const record of this.#models.values())
      for (const version of record.versions.values())
        if (version.described) found.push({ name: record.name, batch: version.described.batch });
    return found;
  }

  /** Stops polling and frees every model once its requests are done. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const record of this.#models.values()) {
      for (const version of record.versions.values()) {
        version.token++;
        version.current?.retire();
        version.current = undefined;
      }
    }
  }
}

/**
 * The model repository at `dir` as a ModelSource, polling for changes until closed. A `dir`
 * that is not a folder is refused here (400 bad_option): a deployment with a wrong path fails
 * at start, not with an empty index.
 */
export function repositorySource(dir: string, options: RepositoryOptions = {}): ModelRepository {
  let folder = false;
  try {
    folder = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!folder)
    throw new BadRequestError(
      'bad_option',
      `the model repository ${dir} is not a folder (--model-repository, TFLITE_FN_MODEL_REPOSITORY)`,
    );
  return new ModelRepository(dir, options);
}
