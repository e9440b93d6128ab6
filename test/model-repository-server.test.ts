/**
 * `tflite-fn serve --model-repository DIR` over loopback: the Open Inference Protocol and the
 * task routes on repository models, the repository API (index, load, unload), a model dropped
 * in while requests run, and the same routes over the catalog when there is no repository.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverConfig } from '../handlers/server/config.js';
import { REPOSITORY_RECHECK_MS } from '../handlers/server/jobs-per-worker.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { MODEL_REPOSITORY } from '../src/config/index.js';
import { enginesCompiledHere } from '../src/engine/select.js';
import { createApp } from '../src/http/app.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { repositoryFromEnv } from '../src/model/repository-env.js';
import { modelCacheDir } from '../src/store/paths.js';
import { photo } from './helpers.js';
import { type ClientInput, infer } from './oip-client.js';

const SMALL = join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite');
const LABELS = join(modelCacheDir(), 'imagenet_labels.txt');
const CONFIG = `task: classify
input: { name: input, width: 128, height: 128, format: rgb8 }
output: { name: MobilenetV1/Predictions/Reshape_1, labels: { file: labels.txt } }
`;
const zeros: ClientInput = {
  name: 'input',
  shape: [1, 128, 128, 3],
  datatype: 'UINT8',
  values: new Uint8Array(128 * 128 * 3),
};

function addModel(
  dir: string,
  name: string,
  versions: Record<string, Uint8Array | string>,
  config = CONFIG,
): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'config.yaml'), config);
  copyFileSync(LABELS, join(dir, name, 'labels.txt'));
  for (const [version, file] of Object.entries(versions)) {
    mkdirSync(join(dir, name, version));
    if (typeof file === 'string') copyFileSync(file, join(dir, name, version, 'model.tflite'));
    else writeFileSync(join(dir, name, version, 'model.tflite'), file);
  }
}

function post(url: string, body?: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

describe('tflite-fn serve --model-repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-repository-server-'));
  const whole = readFileSync(SMALL);
  addModel(dir, 'small', { '1': SMALL, '2': whole.subarray(0, whole.length >> 1) });
  addModel(dir, 'broken', { '1': new TextEncoder().encode('not a model') });
  // Passes every check the main process makes (a sound file, a valid config) and fails only
  // where an engine opens it: the config says 224x224, the model takes 128x128.
  addModel(
    dir,
    'mismatch',
    { '1': SMALL },
    CONFIG.replace('width: 128, height: 128', 'width: 224, height: 224'),
  );
  let server: RunningServer;
  let compiledBefore = 0;
  const logged: Record<string, unknown>[] = [];
  before(async () => {
    compiledBefore = enginesCompiledHere();
    server = await startServer(
      serverConfig({ port: '0', workers: '1', 'model-repository': dir }, {}),
      (event) => logged.push(event),
    );
    await server.ready;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('indexes every version with its state and reason; {"ready": true} lists the ready ones', async () => {
    const response = await post(`${server.url}/v2/repository/index`);
    assert.equal(response.status, 200);
    const index = (await response.json()) as {
      name: string;
      version: string;
      state: string;
      reason?: string;
    }[];
    assert.deepEqual(
      index.map(({ name, version, state }) => ({ name, version, state })),
      [
        { name: 'broken', version: '1', state: 'UNAVAILABLE' },
        { name: 'mismatch', version: '1', state: 'UNAVAILABLE' },
        { name: 'small', version: '1', state: 'READY' },
        { name: 'small', version: '2', state: 'UNAVAILABLE' },
      ],
    );
    assert.match(index[3]?.reason ?? '', /truncated|corrupt/);
    // Failed in a worker, said with the model's name, never a host path.
    assert.match(index[1]?.reason ?? '', /shape \[1, 128, 128, 3\].*\[1, 224, 224, 3\]/);
    assert.ok(!JSON.stringify(index).includes(dir), 'no host path in the index');
    const ready = await (await post(`${server.url}/api/v2/repository/index`, { ready: true })).json();
    assert.deepEqual(ready, [{ name: 'small', version: '1', state: 'READY' }]);
    const bad = await post(`${server.url}/v2/repository/index`, { ready: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /ready/);
  });

  it('GET /models lists the repository models with their task, input and versions', async () => {
    const answer = (await (await fetch(`${server.url}/models`)).json()) as {
      repository: { id: string; task?: string; input?: object; versions: { state: string }[] }[];
      models: { id: string }[];
    };
    assert.ok(
      answer.models.some((model) => model.id === 'imagenet'),
      'the catalog is still listed',
    );
    const small = answer.repository.find((model) => model.id === 'small');
    assert.equal(small?.task, 'classify');
    assert.deepEqual(small?.input, { width: 128, height: 128 });
    assert.deepEqual(
      small?.versions.map((version) => version.state),
      ['READY', 'UNAVAILABLE'],
    );
    const broken = answer.repository.find((model) => model.id === 'broken');
    assert.equal(broken?.task, undefined, 'a model whose files never passed says no task');
  });

  it('serves the newest ready version over /v2, any version by URL, and says why one is not ready', async () => {
    assert.equal((await fetch(`${server.url}/v2/models/small/ready`)).status, 200);
    assert.equal((await fetch(`${server.url}/v2/models/small/versions/2/ready`)).status, 400);
    const answer = await infer(server.url, 'small', [zeros]);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.model_version, '1');
    assert.deepEqual(answer.outputs[0]?.shape, [1, 1001]);
    const two = await infer(server.url, 'small', [zeros], { version: '2' });
    assert.equal(two.status, 503);
    assert.match(String(two.json.error), /version '2'.*(truncated|corrupt)/);
    assert.equal((await infer(server.url, 'small', [zeros], { version: '9' })).status, 404);
  });

  it('the main process checks the versions and leaves loading them to the workers', async () => {
    // Ready, failed and dropped-in versions alike: no engine session was opened in this process
    // (the test's own, which runs the server's main process).
    assert.equal((await infer(server.url, 'small', [zeros])).status, 200);
    assert.equal((await post(`${server.url}/v2/repository/models/small/load`)).status, 200);
    assert.equal(enginesCompiledHere() - compiledBefore, 0);
  });

  const classify = (model: string) =>
    fetch(`${server.url}/classify?model=${model}`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: photo('grace_hopper.jpg'),
    });

  it('task routes run a repository model by name, in the workers', async () => {
    const response = await classify('small');
    assert.equal(response.status, 200);
    const result = (await response.json()) as { model: string; label: string };
    assert.equal(result.model, 'small');
    assert.ok(result.label.length > 0);
  });

  it('unload frees a model until load; a load that leaves no version ready is a 400 with the reasons', async () => {
    assert.equal((await classify('small')).status, 200, 'the worker has it loaded');
    assert.equal((await post(`${server.url}/v2/repository/models/small/unload`)).status, 200);
    // Freed where it was loaded: in the worker (the server's process holds no copy).
    const unloaded = logged.filter((event) => event.msg === 'model unloaded in the workers');
    assert.deepEqual(
      unloaded.map(({ model, workers, freed }) => ({ model, workers, freed })),
      [{ model: 'small', workers: 1, freed: 1 }],
    );
    assert.equal((await fetch(`${server.url}/v2/models/small/ready`)).status, 400);
    assert.equal((await infer(server.url, 'small', [zeros])).status, 503);
    assert.equal((await classify('small')).status, 503, 'the task routes (in the workers) follow the server');
    assert.equal((await post(`${server.url}/v2/repository/models/small/load`)).status, 200);
    assert.equal((await fetch(`${server.url}/v2/models/small/ready`)).status, 200);
    assert.equal((await classify('small')).status, 200);
    const broken = await post(`${server.url}/v2/repository/models/broken/load`);
    assert.equal(broken.status, 400);
    assert.match(
      ((await broken.json()) as { error: string }).error,
      /version 1: .*not a TensorFlow Lite model/,
    );
    assert.equal((await post(`${server.url}/v2/repository/models/nothing/load`)).status, 404);
    assert.equal((await post(`${server.url}/v2/repository/models/nothing/unload`)).status, 404);
  });

  it('a model dropped in becomes ready while requests keep being answered', async (t) => {
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await infer(server.url, 'small', [zeros])).status);
    })();
    const dropped = Date.now();
    addModel(dir, 'dropped', { '1': SMALL });
    let readyAfter = -1;
    while (Date.now() - dropped < 30_000) {
      if ((await fetch(`${server.url}/v2/models/dropped/ready`)).status === 200) {
        readyAfter = Date.now() - dropped;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stop = true;
    await traffic;
    assert.ok(readyAfter >= 0, 'the dropped-in model became ready within 30 s');
    t.diagnostic(`ready ${readyAfter} ms after it was dropped in; ${statuses.length} requests meanwhile`);
    assert.ok(statuses.length > 0);
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed meanwhile');
    assert.equal((await infer(server.url, 'dropped', [zeros])).status, 200);
    // At once on the task routes too, whether or not the worker's own polls have seen it yet.
    assert.equal((await classify('dropped')).status, 200);
    assert.equal(enginesCompiledHere() - compiledBefore, 0, 'loaded in the workers only');
  });
});

describe("a repository model's config.yaml batch: section in the server", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-repository-batch-'));
  // A batch runs when 4 wait, or after 1 s: more than the 2 jobs a worker takes without batching.
  addModel(dir, 'batched', { '1': SMALL }, `${CONFIG}batch: { max_size: 4, max_queue_delay_ms: 1000 }\n`);
  const config = serverConfig({ port: '0', workers: '1', 'model-repository': dir }, {});
  let server: RunningServer;
  before(async () => {
    server = await startServer(config, () => undefined);
    await server.ready;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs concurrent requests for that model together, as many as its max_size, with no server flag', async () => {
    assert.equal(config.batchMax, undefined, 'no --batch-max: the config decides');
    const classify = () =>
      fetch(`${server.url}/classify?model=batched`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo('grace_hopper.jpg'),
      });
    const alone = (await (await classify()).json()) as { label: string };
    // The server re-reads the repository's configs for its jobs per worker at most this often.
    await new Promise((resolve) => setTimeout(resolve, REPOSITORY_RECHECK_MS + 100));
    const before = { ...server.pool.batching };
    const answers = await Promise.all([1, 2, 3, 4].map(classify));
    for (const response of answers) {
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { label: string }).label, alone.label);
    }
    // The worker was given all 4 at once, and they ran as one batch.
    assert.deepEqual(
      {
        batches: server.pool.batching.batches - before.batches,
        items: server.pool.batching.batchedItems - before.batchedItems,
      },
      { batches: 1, items: 4 },
    );
  });
});

describe('the repository API without a repository', () => {
  const catalog = new ModelCatalog({ warmUp: false });
  const app = createApp({ catalog });
  after(() => catalog.dispose());

  it('indexes the catalog and refuses load and unload', async () => {
    const index = (await (await app.request('/v2/repository/index', { method: 'POST' })).json()) as {
      name: string;
    }[];
    assert.ok(index.some((entry) => entry.name === 'imagenet'));
    for (const action of ['load', 'unload']) {
      const response = await app.request(`/v2/repository/models/imagenet/${action}`, { method: 'POST' });
      assert.equal(response.status, 400);
      assert.match(((await response.json()) as { error: string }).error, /--model-repository/);
    }
  });
});

describe('TFLITE_FN_MODEL_REPOSITORY for the serverless handlers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-repository-env-'));
  addModel(dir, 'small', { '3': SMALL });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('createApp serves the repository the variable names, over /v2 and the task routes', async () => {
    const restore = MODEL_REPOSITORY.override(dir);
    try {
      const catalog = new ModelCatalog({ warmUp: false });
      const app = createApp({ catalog });
      // The same process-wide repository the app took (a cold start loads it in the background).
      await repositoryFromEnv()?.settled();
      const index = await (await app.request('/v2/repository/index', { method: 'POST' })).json();
      assert.deepEqual(index, [{ name: 'small', version: '3', state: 'READY' }]);
      const classified = await app.request('/api/classify?model=small', {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo('grace_hopper.jpg'),
      });
      assert.equal(classified.status, 200);
      assert.equal(((await classified.json()) as { model: string }).model, 'small');
      await catalog.dispose();
    } finally {
      restore();
    }
  });
});
