/**
 * A deployment shipping a model repository folder (TFLITE_FN_MODEL_REPOSITORY=model-repository,
 * relative to the deployed files, as serverless.yml, vercel.json and netlify.toml package it),
 * on every in-process surface; the built functions and the Lambda layer run the same suite in
 * test/platforms/. Like program.test.ts, this file runs in its own process: the handlers read
 * the setting when first loaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TfliteFnError } from '../src/errors.js';
import { serverlessPollMs, serverlessRepositoryFromEnv } from '../src/model/repository-env.js';
import { packageRoot } from '../src/store/paths.js';
import { everyHandler } from './conformance/handler-surfaces.js';
import {
  describeRepositoryConformance,
  expectedLabel,
  REPOSITORY_FOLDER,
  repositoryFixture,
} from './conformance/repository-suite.js';

describe('a deployment shipping a model repository (TFLITE_FN_MODEL_REPOSITORY)', async () => {
  // The deployment's folder is the working folder, and the setting names the repository in
  // it relative to it, as in a deployed function.
  const deployment = mkdtempSync(join(tmpdir(), 'tflite-fn-repository-deployment-'));
  const fixture = repositoryFixture(deployment);
  process.chdir(deployment);
  Object.assign(process.env, fixture.env);
  delete process.env.TFLITE_FN_REPOSITORY_POLL_MS;
  const expected = await expectedLabel();
  for (const surface of await everyHandler())
    describeRepositoryConformance(surface.name, surface.invoke, {
      prefix: surface.prefix,
      expected: () => expected,
    });

  it('the serverless handlers read the shipped folder once: no poll timer costs a thawed instance', () => {
    // The repository the handlers opened (one per process), unless TFLITE_FN_REPOSITORY_POLL_MS asks.
    const repository = serverlessRepositoryFromEnv();
    assert.ok(repository, 'the handlers opened the repository');
    assert.equal(repository.dir, join(deployment, REPOSITORY_FOLDER));
    assert.equal(repository.pollMs, 0);
  });
});

describe('serverless functions poll their repository only when asked', () => {
  it('never by default; TFLITE_FN_REPOSITORY_POLL_MS when set (a mounted volume), checked as the server checks it', () => {
    assert.equal(serverlessPollMs({}), 0);
    assert.equal(serverlessPollMs({ TFLITE_FN_REPOSITORY_POLL_MS: '' }), 0);
    assert.equal(serverlessPollMs({ TFLITE_FN_REPOSITORY_POLL_MS: '250' }), 250);
    assert.throws(
      () => serverlessPollMs({ TFLITE_FN_REPOSITORY_POLL_MS: 'soon' }),
      (error) => error instanceof TfliteFnError && error.status === 400 && error.code === 'bad_option',
    );
  });
});

describe('a shipped repository with a bad version, on a serverless handler', () => {
  it("the function's log (stderr) says which version is not ready and why, in one JSON line", () => {
    const deployment = mkdtempSync(join(tmpdir(), 'tflite-fn-repository-bad-'));
    mkdirSync(join(deployment, REPOSITORY_FOLDER, 'broken', '1'), { recursive: true });
    writeFileSync(join(deployment, REPOSITORY_FOLDER, 'broken', '1', 'model.tflite'), 'not a model');
    // The Vercel handler as a deployment loads it, then one request that waits for the scan.
    const handler = join(packageRoot(), 'dist', 'handlers', 'vercel', 'index.js');
    const script = `const h = await import(${JSON.stringify(handler)});
      const r = await h.GET(new Request('https://x.example/api/v2/models/broken/ready'));
      console.log(r.status);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: deployment,
      env: { ...process.env, TFLITE_FN_MODEL_REPOSITORY: REPOSITORY_FOLDER },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '400');
    const lines = run.stderr
      .trim()
      .split('\n')
      .filter((line) => line.includes('"broken"'));
    assert.equal(lines.length, 1, run.stderr);
    const event = JSON.parse(lines[0] as string) as {
      level: string;
      version: string;
      state: string;
      reason: string;
    };
    assert.equal(event.level, 'warn');
    assert.equal(event.state, 'UNAVAILABLE');
    assert.equal(event.version, '1');
    assert.ok(event.reason.length > 0);
    assert.ok(!event.reason.includes(deployment), 'no host path');
  });
});

describe('platform configs ship model-repository/', () => {
  const file = (name: string) => readFileSync(join(packageRoot(), name), 'utf8');

  it("vercel.json's includeFiles names it and stays within Vercel's 256 characters", () => {
    const config = JSON.parse(file('vercel.json')) as { functions: Record<string, { includeFiles: string }> };
    for (const [glob, fn] of Object.entries(config.functions)) {
      assert.ok(fn.includeFiles.length <= 256, `${glob}: ${fn.includeFiles.length} characters`);
      assert.match(fn.includeFiles, /[{,]model-repository\/\*\*[,}]/, glob);
    }
  });
});
