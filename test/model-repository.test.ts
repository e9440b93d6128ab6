/**
 * The model repository (src/model/repository.ts): real files in temporary folders, copies of
 * the built-in models from the set-up cache, loaded on the real engines.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { batchCounts } from '../src/batch/batcher.js';
import { batchingFor } from '../src/batch/settings.js';
import { CACHE_DIR, MAX_MODEL_BYTES } from '../src/config/index.js';
import { enginesCompiledHere } from '../src/engine/select.js';
import { ModelLoadError, TfliteFnError, UnavailableError } from '../src/errors.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { zerosFor } from '../src/model/load.js';
import {
  DEFAULT_POLL_MS,
  type ModelRepository,
  type RepositoryOptions,
  repositoryPollMs,
  repositorySource,
} from '../src/model/repository.js';
import { convertRepository } from '../src/model/repository-convert.js';
import { SCAN_LIMITS } from '../src/model/repository-layout.js';
import type { ResolvedModel } from '../src/oip/model-source.js';
import { modelCacheDir, sampleCacheDir } from '../src/store/paths.js';
import { classifyTask } from '../src/tasks/classify/index.js';
import { embedTask } from '../src/tasks/embed/index.js';
import { runTask } from '../src/tasks/run.js';
import { photo } from './helpers.js';

const SMALL = join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite');
const LABELS = join(modelCacheDir(), 'imagenet_labels.txt');
/** imagenet-small's descriptor, as a repository config (no id, no model file). */
const SMALL_CONFIG = `task: classify
input: { name: input, width: 128, height: 128, format: rgb8 }
output: { name: MobilenetV1/Predictions/Reshape_1, labels: { file: labels.txt } }
`;

const roots: string[] = [];
const repositories: ModelRepository[] = [];
after(() => {
  for (const repository of repositories) repository.close();
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tempFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'tflite-fn-repository-'));
  roots.push(root);
  return root;
}

/** DIR/<name>/config.yaml + labels.txt, and a version per entry of `versions` (a file to copy, or bytes). */
function addModel(
  dir: string,
  name: string,
  versions: Record<string, string | Uint8Array>,
  config = SMALL_CONFIG,
): void {
  mkdirSync(join(dir, name), { recursive: true });
  if (config) writeFileSync(join(dir, name, 'config.yaml'), config);
  copyFileSync(LABELS, join(dir, name, 'labels.txt'));
  for (const [version, file] of Object.entries(versions)) addVersion(dir, name, version, file);
}

function addVersion(dir: string, name: string, version: string, file: string | Uint8Array): void {
  mkdirSync(join(dir, name, version), { recursive: true });
  const target = join(dir, name, version, 'model.tflite');
  if (typeof file === 'string') copyFileSync(file, target);
  else writeFileSync(target, file);
}

function open(dir: string, pollMs = 0, options: RepositoryOptions = {}): ModelRepository {
  const repository = repositorySource(dir, { pollMs, warmUp: false, ...options });
  repositories.push(repository);
  return repository;
}

/** A repository that is not polled, with the lines it logs kept, once its first scan is done. */
async function openLogged(dir: string, options: RepositoryOptions = {}) {
  const logged: Record<string, unknown>[] = [];
  const repository = open(dir, 0, { ...options, log: (event) => logged.push(event) });
  await repository.settled();
  return { repository, logged };
}

async function versionsOf(repository: ModelRepository, name: string) {
  return (await repository.index()).find((model) => model.name === name)?.versions ?? [];
}

/** Polls until `check` holds (the repository polls by itself too); wide bound, not a timing test. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

function isStatus(status: number, code?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof TfliteFnError, String(error));
    assert.equal(error.status, status);
    if (code) assert.equal(error.code, code);
    return true;
  };
}

async function runs(resolved: ResolvedModel): Promise<void> {
  const model = await resolved.load();
  const outputs = await model.engine.run(model.engine.inputs.map(zerosFor));
  assert.equal(outputs.length, model.engine.outputs.length);
}

describe('model repository', () => {
  it('lists models and versions oldest first, serves the newest by default and any version by name', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL, '2': SMALL, '10': SMALL });
    const repository = open(dir);
    await repository.settled();
    assert.deepEqual(await repository.index(), [
      {
        name: 'small',
        versions: [
          { version: '1', state: 'READY' },
          { version: '2', state: 'READY' },
          { version: '10', state: 'READY' },
        ],
      },
    ]);
    const newest = await repository.resolve('small');
    assert.equal(newest.version, '10', 'versions compare as numbers');
    const model = await newest.load();
    assert.equal(model.descriptor.id, 'small');
    assert.equal(model.descriptor.task, 'classify');
    assert.match(model.labels[1] ?? '', /^tench/, 'labels are read from the model folder');
    await runs(newest);
    newest.release();
    const two = await repository.resolve('small', '2');
    assert.equal(two.version, '2');
    await runs(two);
    two.release();
    await assert.rejects(repository.resolve('small', '3'), isStatus(404, 'unknown_version'));
    await assert.rejects(repository.resolve('nothing'), isStatus(404));
  });

  it('a broken version is UNAVAILABLE with its reason while the others serve', async () => {
    const dir = tempFolder();
    const whole = readFileSync(SMALL);
    addModel(dir, 'small', { '1': SMALL, '2': whole.subarray(0, whole.length >> 1) });
    addModel(dir, 'notes', { '1': new TextEncoder().encode('not a model at all, just text\n'.repeat(4)) });
    addModel(dir, 'badconfig', { '1': SMALL }, 'task: classify\ninput: { width: -3 }\n');
    addModel(dir, 'pinned', { '1': SMALL }, `${SMALL_CONFIG}model: { file: other.tflite }\n`);
    const repository = open(dir);
    await repository.settled();
    const small = await versionsOf(repository, 'small');
    assert.equal(small[0]?.state, 'READY');
    assert.equal(small[1]?.state, 'UNAVAILABLE');
    assert.match(small[1]?.reason ?? '', /small.*version 2.*(truncated|corrupt)/);
    assert.match((await versionsOf(repository, 'notes'))[0]?.reason ?? '', /not a TensorFlow Lite model/);
    assert.match(
      (await versionsOf(repository, 'badconfig'))[0]?.reason ?? '',
      /badconfig\/config\.yaml[\s\S]*input\.width/,
    );
    assert.match((await versionsOf(repository, 'pinned'))[0]?.reason ?? '', /model\.file: not allowed here/);
    for (const model of await repository.index())
      for (const version of model.versions)
        assert.ok(!version.reason?.includes(dir), 'no host path in a reason');

    // The newest READY version is the default; the broken one, asked for, says why.
    const serving = await repository.resolve('small');
    assert.equal(serving.version, '1');
    await runs(serving);
    serving.release();
    const broken = await repository.resolve('small', '2');
    assert.equal(broken.state, 'UNAVAILABLE');
    await assert.rejects(broken.load(), isStatus(503, 'model_not_ready'));
    broken.release();
  });

  it("a config.yaml's batch: section batches that model's concurrent runs; a bad one says why", async () => {
    const dir = tempFolder();
    // A delay far beyond the test's patience: only a full batch of 3 can run.
    addModel(
      dir,
      'batched',
      { '1': SMALL },
      `${SMALL_CONFIG}batch: { max_size: 3, max_queue_delay_ms: 1000 }\n`,
    );
    addModel(dir, 'badbatch', { '1': SMALL }, `${SMALL_CONFIG}batch: { max_size: 0 }\n`);
    const repository = open(dir, 0, {
      warmUp: true,
      // The environment says nothing here: the config decides.
      batching: (name, declared) => batchingFor(name, declared, {}),
    });
    await repository.settled();
    assert.match(
      (await versionsOf(repository, 'badbatch'))[0]?.reason ?? '',
      /badbatch\/config\.yaml[\s\S]*batch\.max_size/,
    );
    const resolved = await repository.resolve('batched');
    const model = await resolved.load();
    assert.equal(model.engineName, 'ort', 'the same file as imagenet-small: its verified conversion');
    assert.equal(model.engine.batchable, true);
    // The warm-up run does not wait for company: timers never fire early, so a lone run
    // through the batcher takes at least its 1 s delay.
    assert.ok(model.warmUpMs < 1000, `warm-up took ${model.warmUpMs} ms`);
    const countsBefore = batchCounts();
    const inputs = model.engine.inputs.map(zerosFor);
    const outputs = await Promise.all([1, 2, 3].map(() => model.engine.run(inputs)));
    assert.equal(outputs.length, 3);
    const countsAfter = batchCounts();
    assert.equal(countsAfter.batches - countsBefore.batches, 1, 'one engine call for the three');
    assert.equal(countsAfter.batchedItems - countsBefore.batchedItems, 3);
    resolved.release();
  });

  it('loads each version on the engine the catalog would pick for the same file', async () => {
    const dir = tempFolder();
    const catalog = new ModelCatalog({ warmUp: false });
    const entry = catalog.entry('imagenet');
    const config = readFileSync(entry.descriptorPath, 'utf8')
      .replace(/^id:.*$/m, '')
      .replace(/^model:\n( {2}.*\n)+/m, '')
      .replace(/file: imagenet_labels\.txt/, 'file: labels.txt');
    addModel(dir, 'mobilenet', { '1': catalog.locate(entry, entry.descriptor.model).path }, config);
    const repository = open(dir);
    await repository.settled();
    const resolved = await repository.resolve('mobilenet');
    assert.equal(resolved.state, 'READY', resolved.reason);
    const model = await resolved.load();
    assert.equal(model.engineName, catalog.plannedEngine('imagenet').engine);
    resolved.release();
  });

  it('tflite-fn convert --model-repository stores verified conversions; a running repository moves to onnxruntime', async () => {
    // A cache with the verification photos and no conversions: the model starts on LiteRT.
    const cache = tempFolder();
    cpSync(sampleCacheDir(), join(cache, 'samples'), { recursive: true });
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL });
    addModel(dir, 'broken', { '1': new TextEncoder().encode('not a model') });
    const restore = CACHE_DIR.override(cache);
    try {
      const repository = open(dir, 0, { engine: 'auto' });
      await repository.settled();
      const before = await repository.resolve('small');
      assert.equal((await before.load()).engineName, 'litert');
      const results = await convertRepository(dir);
      assert.deepEqual(
        results.map((done) => [done.name, done.version, done.report?.ok ?? false]),
        [
          ['broken', '1', false],
          ['small', '1', true],
        ],
      );
      assert.match(results[0]?.problem ?? '', /not a TensorFlow Lite model/);
      await repository.poll();
      await repository.settled();
      const after = await repository.resolve('small');
      assert.equal((await after.load()).engineName, 'ort');
      // The request that started on LiteRT still runs there, until it releases it.
      await runs(before);
      before.release();
      after.release();
    } finally {
      restore();
    }
  });

  it('loadOnUse checks versions at once but loads each on its first use', async () => {
    const dir = tempFolder();
    const whole = readFileSync(SMALL);
    addModel(dir, 'small', { '1': SMALL, '2': SMALL, '3': whole.subarray(0, whole.length >> 1) });
    const { repository, logged } = await openLogged(dir, { loadOnUse: true });
    const states = (await versionsOf(repository, 'small')).map((version) => version.state);
    assert.deepEqual(states, ['READY', 'READY', 'UNAVAILABLE'], 'the checks ran');
    const loads = () =>
      logged.filter((event) => event.msg === 'model version loaded').map((event) => event.version);
    assert.deepEqual(loads(), [], 'nothing loaded yet');
    const resolved = await repository.resolve('small');
    await runs(resolved);
    resolved.release();
    assert.deepEqual(loads(), ['2'], 'only the version used');
  });

  it('loadElsewhere: versions checked here, loaded by the other process; a busy one is asked again at the next poll', async () => {
    const dir = tempFolder();
    const whole = readFileSync(SMALL);
    addModel(dir, 'small', { '1': SMALL, '2': SMALL, '3': whole.subarray(0, whole.length >> 1) });
    const compiledBefore = enginesCompiledHere();
    const asked: string[] = [];
    let busy = true;
    const repository = repositorySource(dir, {
      pollMs: 0,
      loadElsewhere: async ({ name, version, contentKey }) => {
        asked.push(`${name}/${version}`);
        assert.match(contentKey, /^[0-9a-f]{64}$/);
        if (version === '2' && busy) throw new UnavailableError('no_workers', 'no worker yet');
        if (version === '1') throw new ModelLoadError(`model '${name}': the engine refused it`);
      },
    });
    repositories.push(repository);
    await repository.settled();
    const first = await versionsOf(repository, 'small');
    assert.deepEqual(
      first.map(({ state }) => state),
      ['UNAVAILABLE', 'LOADING', 'UNAVAILABLE'],
    );
    assert.equal(first[0]?.reason, "model 'small': the engine refused it");
    assert.match(first[1]?.reason ?? '', /waiting to be loaded: no worker yet/);
    assert.deepEqual(asked.sort(), ['small/1', 'small/2'], 'a version that fails the checks is not sent');
    // Unloaded meanwhile, it stays unloaded: the next poll does not ask for it again.
    await repository.unload('small');
    await repository.poll();
    await repository.settled();
    assert.deepEqual(asked.sort(), ['small/1', 'small/2']);
    assert.ok((await versionsOf(repository, 'small')).every(({ state }) => state === 'UNAVAILABLE'));
    busy = false;
    await repository.load('small');
    await repository.poll();
    await repository.settled();
    assert.deepEqual(
      (await versionsOf(repository, 'small')).map(({ state }) => state),
      ['UNAVAILABLE', 'READY', 'UNAVAILABLE'],
    );
    await repository.poll();
    await repository.settled();
    // Asked again by load() (both versions with a file that passes), then not while unchanged.
    assert.equal(asked.length, 4, 'a version loaded elsewhere is not asked for again while unchanged');
    const resolved = await repository.resolve('small');
    assert.equal(resolved.version, '2');
    await assert.rejects(resolved.load(), /loaded in another process/);
    resolved.release();
    assert.equal(enginesCompiledHere() - compiledBefore, 0, 'no engine session in this process');
  });

  it('versions: in config.yaml says which versions are served; the others are not read', async () => {
    const dir = tempFolder();
    addModel(
      dir,
      'small',
      { '1': SMALL, '2': SMALL, '3': SMALL },
      `${SMALL_CONFIG}versions: { latest: 2 }\n`,
    );
    addModel(dir, 'wrong', { '1': SMALL }, `${SMALL_CONFIG}versions: { latest: 0 }\n`);
    const { repository, logged } = await openLogged(dir);
    const states = async () =>
      (await versionsOf(repository, 'small')).map((version) => [
        version.version,
        version.state,
        version.reason,
      ]);
    assert.deepEqual(await states(), [
      ['1', 'UNAVAILABLE', 'not served: the version policy in small/config.yaml is latest 2'],
      ['2', 'READY', undefined],
      ['3', 'READY', undefined],
    ]);
    const loaded = () =>
      logged
        .filter((event) => event.msg === 'model version loaded' && event.model === 'small')
        .map((event) => event.version);
    assert.deepEqual(loaded().sort(), ['2', '3']);
    assert.match((await versionsOf(repository, 'wrong'))[0]?.reason ?? '', /versions: must be 'all'/);

    writeFileSync(join(dir, 'small', 'config.yaml'), `${SMALL_CONFIG}versions: { specific: [1] }\n`);
    await repository.poll();
    await repository.poll();
    await repository.settled();
    assert.deepEqual(
      (await states()).map(([version, state]) => [version, state]),
      [
        ['1', 'READY'],
        ['2', 'UNAVAILABLE'],
        ['3', 'UNAVAILABLE'],
      ],
    );
    const served = await repository.resolve('small');
    assert.equal(served.version, '1', 'the newest served version is the default');
    served.release();
  });

  it('a model without config.yaml is described from its file (an embed model)', async () => {
    const dir = tempFolder();
    mkdirSync(join(dir, 'bare', '1'), { recursive: true });
    copyFileSync(SMALL, join(dir, 'bare', '1', 'model.tflite'));
    const repository = open(dir);
    await repository.settled();
    const resolved = await repository.resolve('bare');
    assert.equal(resolved.state, 'READY', resolved.reason);
    const model = await resolved.load();
    assert.equal(model.descriptor.task, 'embed');
    assert.deepEqual([model.descriptor.input.width, model.descriptor.input.height], [128, 128]);
    resolved.release();
  });

  it('a model dropped in while it runs becomes ready by polling; a half-copied file is checked again when it changes', async () => {
    const dir = tempFolder();
    const repository = open(dir, 100);
    await repository.settled();
    assert.deepEqual(await repository.index(), []);
    addModel(dir, 'dropped', { '1': SMALL });
    await eventually(
      'the dropped-in model is READY',
      async () => (await versionsOf(repository, 'dropped'))[0]?.state === 'READY',
    );

    // Half a file that holds still long enough to be checked: refused, not remembered as broken.
    const whole = readFileSync(SMALL);
    addVersion(dir, 'dropped', '2', whole.subarray(0, whole.length >> 1));
    await eventually(
      'the half file is UNAVAILABLE',
      async () => (await versionsOf(repository, 'dropped'))[1]?.state === 'UNAVAILABLE',
    );
    writeFileSync(join(dir, 'dropped', '2', 'model.tflite'), whole);
    await eventually(
      'the completed file is READY',
      async () => (await versionsOf(repository, 'dropped'))[1]?.state === 'READY',
    );
    assert.equal((await repository.resolve('dropped')).version, '2');
  });

  it('a version removed while a request runs on it finishes that request, then is freed', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL, '2': SMALL });
    const repository = open(dir);
    await repository.settled();
    const running = await repository.resolve('small');
    assert.equal(running.version, '2');
    const model = await running.load();
    rmSync(join(dir, 'small', '2'), { recursive: true });
    await repository.poll();
    assert.deepEqual(
      (await versionsOf(repository, 'small')).map((version) => version.version),
      ['1'],
    );
    assert.equal((await repository.resolve('small')).version, '1', 'new requests get the remaining version');
    await assert.rejects(repository.resolve('small', '2'), isStatus(404, 'unknown_version'));
    // The request that started on version 2 still runs on it.
    await model.engine.run(model.engine.inputs.map(zerosFor));
    running.release();
    await assert.rejects(model.engine.run(model.engine.inputs.map(zerosFor)), 'freed after its last user');
  });

  it('a file touched but unchanged keeps its loaded copy; changed content loads a new one', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL });
    const repository = open(dir);
    await repository.settled();
    const first = await repository.resolve('small');
    const loaded = await first.load();
    first.release();
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'small', '1', 'model.tflite'), later, later);
    await repository.poll();
    await repository.poll();
    await repository.settled();
    const same = await repository.resolve('small');
    assert.equal(await same.load(), loaded, 'same content: the same loaded model');
    same.release();
    // A new config (top_k) is new content: the version is loaded again.
    writeFileSync(
      join(dir, 'small', 'config.yaml'),
      SMALL_CONFIG.replace('labels.txt }', 'labels.txt }, top_k: 3'),
    );
    await repository.poll();
    await repository.poll();
    await repository.settled();
    const changed = await repository.resolve('small');
    assert.notEqual(await changed.load(), loaded);
    changed.release();
  });

  it('unload frees a model until load asks for it again', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL });
    const repository = open(dir);
    await repository.settled();
    await repository.unload('small');
    const unloaded = await versionsOf(repository, 'small');
    assert.equal(unloaded[0]?.state, 'UNAVAILABLE');
    assert.match(unloaded[0]?.reason ?? '', /unloaded/);
    await repository.poll();
    await repository.poll();
    assert.equal(
      (await versionsOf(repository, 'small'))[0]?.state,
      'UNAVAILABLE',
      'polling does not load it back',
    );
    addVersion(dir, 'small', '2', SMALL);
    await repository.poll();
    await repository.poll();
    await repository.settled();
    assert.deepEqual(
      (await versionsOf(repository, 'small')).map((version) => [version.state, version.reason]),
      [
        ['UNAVAILABLE', 'unloaded through the repository API'],
        ['UNAVAILABLE', 'unloaded through the repository API'],
      ],
      'a version added meanwhile waits for the load too',
    );
    assert.deepEqual(await repository.load('small'), [
      { version: '1', state: 'READY' },
      { version: '2', state: 'READY' },
    ]);
    await assert.rejects(repository.load('nothing'), isStatus(404));
    await assert.rejects(repository.unload('nothing'), isStatus(404));
  });

  it('refuses hostile names, links out of the repository, devices and oversized files', async () => {
    const dir = tempFolder();
    const outside = tempFolder();
    copyFileSync(SMALL, join(outside, 'model.tflite'));
    copyFileSync(LABELS, join(outside, 'labels.txt'));
    mkdirSync(join(outside, '1'));
    copyFileSync(SMALL, join(outside, '1', 'model.tflite'));
    writeFileSync(join(outside, 'config.yaml'), SMALL_CONFIG);
    addModel(dir, 'good', { '1': SMALL });
    // Names outside the charset are not served at all.
    for (const name of ['bad name', 'line\nbreak', 'ünï', '-dash']) addModel(dir, name, { '1': SMALL });
    // A model folder that is a link out of DIR is refused; one inside DIR is fine.
    symlinkSync(outside, join(dir, 'escape'));
    symlinkSync(join(dir, 'good'), join(dir, 'alias'));
    // A model file or labels file that is a link out: that version is UNAVAILABLE.
    addModel(dir, 'linked', { '2': SMALL });
    mkdirSync(join(dir, 'linked', '1'));
    symlinkSync(join(outside, 'model.tflite'), join(dir, 'linked', '1', 'model.tflite'));
    addModel(dir, 'labels-out', { '1': SMALL });
    rmSync(join(dir, 'labels-out', 'labels.txt'));
    symlinkSync(join(outside, 'labels.txt'), join(dir, 'labels-out', 'labels.txt'));
    // A named pipe as the model: never opened for reading.
    addModel(dir, 'pipe', {});
    mkdirSync(join(dir, 'pipe', '1'));
    execFileSync('mkfifo', [join(dir, 'pipe', '1', 'model.tflite')]);
    // Version folder names that are not positive integers are not versions.
    addModel(dir, 'odd', { '0': SMALL, '01': SMALL, '1.5': SMALL, '3': SMALL });

    const { repository, logged } = await openLogged(dir);
    const index = await repository.index();
    assert.deepEqual(
      index.map((model) => model.name),
      ['alias', 'good', 'labels-out', 'linked', 'odd', 'pipe'],
    );
    assert.ok(logged.some((event) => /escape is a link to a place outside/.test(String(event.reason))));
    assert.ok(logged.some((event) => /"line\\nbreak" is not a model name/.test(String(event.reason))));
    const linked = await versionsOf(repository, 'linked');
    assert.equal(linked[0]?.state, 'UNAVAILABLE');
    assert.match(
      linked[0]?.reason ?? '',
      /linked\/1\/model\.tflite is a link to a place outside the model repository/,
    );
    assert.equal(linked[1]?.state, 'READY');
    assert.match(
      (await versionsOf(repository, 'labels-out'))[0]?.reason ?? '',
      /labels file .*outside the model repository/,
    );
    assert.match((await versionsOf(repository, 'pipe'))[0]?.reason ?? '', /not a regular file/);
    assert.deepEqual(
      (await versionsOf(repository, 'odd')).map((version) => version.version),
      ['3'],
    );
    assert.equal((await versionsOf(repository, 'alias'))[0]?.state, 'READY');
    for (const model of index)
      for (const version of model.versions) {
        assert.ok(!version.reason?.includes(dir) && !version.reason?.includes(outside), version.reason);
      }
  });

  it('a folder filled with entries costs a bounded scan: newest versions kept, refusals summed up', async () => {
    const dir = tempFolder();
    addModel(dir, 'many', {});
    const count = SCAN_LIMITS.versions + 5;
    for (let version = 1; version <= count; version++) mkdirSync(join(dir, 'many', String(version)));
    for (let bad = 0; bad < SCAN_LIMITS.refusals + 7; bad++) mkdirSync(join(dir, `bad name ${bad}`));
    const { repository, logged } = await openLogged(dir);
    const versions = (await versionsOf(repository, 'many')).map((version) => Number(version.version));
    assert.equal(versions.length, SCAN_LIMITS.versions);
    assert.equal(versions[0], 6, 'the oldest ones are left out');
    assert.equal(versions.at(-1), count);
    const reasons = logged.map((event) => String(event.reason));
    assert.ok(
      reasons.includes(`many has ${count} versions; only the newest ${SCAN_LIMITS.versions} are served`),
    );
    assert.equal(reasons.filter((reason) => /is not a model name/.test(reason)).length, SCAN_LIMITS.refusals);
    assert.ok(reasons.includes('7 more entries are not model names'));
  });

  it('a model file over TFLITE_FN_MAX_MODEL_BYTES is refused from its size', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL });
    const restore = MAX_MODEL_BYTES.override('1000');
    try {
      const repository = open(dir);
      await repository.settled();
      const [version] = await versionsOf(repository, 'small');
      assert.equal(version?.state, 'UNAVAILABLE');
      assert.match(
        version?.reason ?? '',
        /small\/1\/model\.tflite is larger than 1000 bytes \(TFLITE_FN_MAX_MODEL_BYTES\)/,
      );
    } finally {
      restore();
    }
  });

  it('task runs use a repository model by name, the catalog for the names it does not hold', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL });
    mkdirSync(join(dir, 'bare', '1'), { recursive: true });
    copyFileSync(SMALL, join(dir, 'bare', '1', 'model.tflite'));
    const repository = open(dir);
    await repository.settled();
    const catalog = new ModelCatalog({ warmUp: false });
    const run = (model: string, task = classifyTask) =>
      runTask(task, photo('grace_hopper.jpg'), task.parseOptions({}), { model, catalog, source: repository });
    const result = await run('small');
    assert.equal(result.model, 'small');
    assert.ok(result.top.length > 0);
    assert.equal((await run('imagenet-small')).label, result.label, 'the same file as the catalog');
    await assert.rejects(run('bare'), isStatus(400, 'wrong_task'));
    assert.equal((await run('bare', embedTask as never)).model, 'bare');
    await assert.rejects(run('nothing'), isStatus(404, 'unknown_model'));
    await repository.unload('small');
    await assert.rejects(run('small'), isStatus(503, 'model_not_ready'));
    await catalog.dispose();
  });

  it('a repository folder that goes away keeps its loaded models serving, and is logged once', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': SMALL });
    const { repository, logged } = await openLogged(dir);
    renameSync(dir, `${dir}.away`);
    roots.push(`${dir}.away`);
    for (let poll = 0; poll < 3; poll++) await repository.poll();
    assert.equal(logged.filter((event) => event.msg === 'model repository cannot be read').length, 1);
    const resolved = await repository.resolve('small');
    await runs(resolved);
    resolved.release();
  });

  it('TFLITE_FN_REPOSITORY_POLL_MS is a whole number of ms (0: no polling), anything else refused', () => {
    assert.equal(repositoryPollMs({}), DEFAULT_POLL_MS);
    assert.equal(repositoryPollMs({ TFLITE_FN_REPOSITORY_POLL_MS: '0' }), 0);
    assert.equal(repositoryPollMs({ TFLITE_FN_REPOSITORY_POLL_MS: '250' }), 250);
    for (const wrong of ['-1', '1.5', 'soon'])
      assert.throws(
        () => repositoryPollMs({ TFLITE_FN_REPOSITORY_POLL_MS: wrong }),
        isStatus(400, 'bad_option'),
      );
  });

  it('a repository folder that is not there is refused at once', () => {
    const file = join(tempFolder(), 'file');
    writeFileSync(file, 'not a folder');
    for (const dir of [file, join(file, 'missing')])
      assert.throws(() => repositorySource(dir, { pollMs: 0 }), isStatus(400, 'bad_option'));
  });

  it('a model replaced by rename is picked up', async () => {
    const dir = tempFolder();
    addModel(dir, 'small', { '1': new TextEncoder().encode('placeholder, not a model') });
    const repository = open(dir, 100);
    await repository.settled();
    assert.equal((await versionsOf(repository, 'small'))[0]?.state, 'UNAVAILABLE');
    copyFileSync(SMALL, join(dir, 'small', 'incoming.tmp'));
    renameSync(join(dir, 'small', 'incoming.tmp'), join(dir, 'small', '1', 'model.tflite'));
    await eventually(
      'the renamed-in model is READY',
      async () => (await versionsOf(repository, 'small'))[0]?.state === 'READY',
    );
  });
});
