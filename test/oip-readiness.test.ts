/**
 * GET /v2/health/ready as Triton answers it: strict by default (every model meant to serve has
 * a READY version; one unloaded through the repository API is not meant to), not strict when
 * TFLITE_FN_STRICT_READINESS says so (ready whenever the server can run work). A real model
 * repository in a temporary folder, in process and behind the self-hosted server.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { STRICT_READINESS } from '../src/config/index.js';
import { createApp } from '../src/http/app.js';
import { type ModelRepository, repositorySource } from '../src/model/repository.js';
import { parseStrictReadiness } from '../src/oip/readiness.js';
import { modelCacheDir } from '../src/store/paths.js';

/** A repository with a good model and a model whose only version is not a model file. */
function repositoryFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-readiness-'));
  mkdirSync(join(dir, 'good', '1'), { recursive: true });
  copyFileSync(
    join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite'),
    join(dir, 'good', '1', 'model.tflite'),
  );
  mkdirSync(join(dir, 'broken', '1'), { recursive: true });
  writeFileSync(join(dir, 'broken', '1', 'model.tflite'), 'not a model');
  return dir;
}

describe('/v2/health/ready in process, over a model repository', () => {
  const dir = repositoryFolder();
  let repository: ModelRepository;
  before(async () => {
    repository = repositorySource(dir, { pollMs: 0, warmUp: false });
    await repository.settled();
  });
  after(() => {
    repository.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const appWith = (options: Parameters<typeof createApp>[0]) =>
    createApp({ modelSource: repository, corsOrigins: [], logError: () => undefined, ...options });
  const status = async (app: ReturnType<typeof createApp>, path: string, method = 'GET') =>
    (await app.fetch(new Request(`http://localhost${path}`, { method }))).status;

  it('strict (the default): a broken model makes the server not ready; unloading it makes it ready', async () => {
    const app = appWith({});
    assert.equal(await status(app, '/v2/models/good/ready'), 200);
    assert.equal(await status(app, '/v2/models/broken/ready'), 400);
    assert.equal(await status(app, '/v2/health/ready'), 400, 'broken should serve and cannot');
    assert.equal(await status(app, '/v2/repository/models/broken/unload', 'POST'), 200);
    try {
      assert.equal(await status(app, '/v2/health/ready'), 200, 'an unloaded model does not count');
      assert.equal(await status(app, '/v2/repository/models/good/unload', 'POST'), 200);
      assert.equal(await status(app, '/v2/health/ready'), 200, 'nothing is meant to serve: ready');
      assert.equal(await status(app, '/v2/repository/models/good/load', 'POST'), 200);
      assert.equal(await status(app, '/v2/health/ready'), 200);
    } finally {
      // A load of broken is refused (400: no version loads), and counts again: not ready.
      assert.equal(await status(app, '/v2/repository/models/broken/load', 'POST'), 400);
    }
    assert.equal(await status(app, '/v2/health/ready'), 400, 'loaded again, broken counts again');
  });

  it('not strict: ready with a broken model, and with none ready; not ready when it cannot serve', async () => {
    assert.equal(await status(appWith({ strictReadiness: false }), '/v2/health/ready'), 200);
    assert.equal(await status(appWith({ strictReadiness: false }), '/v2/models/broken/ready'), 400);
    const cannot = appWith({ strictReadiness: false, canServe: () => false });
    assert.equal(await status(cannot, '/v2/health/ready'), 400);
    assert.equal(await status(cannot, '/v2/health/live'), 200);
  });

  it('TFLITE_FN_STRICT_READINESS is the default of createApp', async () => {
    await STRICT_READINESS.withValue('false', async () => {
      assert.equal(await status(appWith({}), '/v2/health/ready'), 200);
    });
  });
});

describe('the setting', () => {
  it('true/1/unset is strict, false/0 is not, anything else is refused; the flag wins', () => {
    for (const value of [undefined, '', 'true', '1', 'TRUE']) assert.equal(parseStrictReadiness(value), true);
    for (const value of ['false', '0', ' False ']) assert.equal(parseStrictReadiness(value), false);
    assert.throws(
      () => parseStrictReadiness('maybe'),
      (error: { status?: number; message?: string }) =>
        error.status === 400 && /TFLITE_FN_STRICT_READINESS must be true or false/.test(error.message ?? ''),
    );
    assert.equal(serverConfig({}, {}).strictReadiness, true);
    assert.equal(serverConfig({}, { TFLITE_FN_STRICT_READINESS: 'false' }).strictReadiness, false);
    assert.equal(
      serverConfig({ 'strict-readiness': 'true' }, { TFLITE_FN_STRICT_READINESS: 'false' }).strictReadiness,
      true,
    );
    assert.throws(
      () => serverConfig({ 'strict-readiness': 'no' }, {}),
      /--strict-readiness must be true or false/,
    );
  });
});

describe('/v2/health/ready on the self-hosted server', () => {
  const dir = repositoryFolder();
  const servers: RunningServer[] = [];
  const start = async (env: NodeJS.ProcessEnv) => {
    const server = await startServer(
      serverConfig({ port: '0', workers: '1', 'model-repository': dir }, env),
      () => undefined,
    );
    servers.push(server);
    await server.ready;
    return server;
  };
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('strict by default, not strict with TFLITE_FN_STRICT_READINESS=false; a closing server is not ready', async () => {
    const strict = await start({});
    assert.equal((await fetch(`${strict.url}/v2/health/ready`)).status, 400);
    const relaxed = await start({ TFLITE_FN_STRICT_READINESS: 'false' });
    assert.equal((await fetch(`${relaxed.url}/v2/health/ready`)).status, 200);
    assert.equal((await fetch(`${relaxed.url}/v2/models/broken/ready`)).status, 400);
    await relaxed.pool.stop(); // no worker can run anything now
    assert.equal((await fetch(`${relaxed.url}/v2/health/ready`)).status, 400);
  });
});
