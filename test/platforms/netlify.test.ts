import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { runWasm } from '../../src/wasm/sandbox.js';
import { overHttp } from '../conformance/over-http.js';
import { describeProgramConformance } from '../conformance/program-suite.js';
import { describeConformance } from '../conformance/suite.js';
import { haveClang, programFixture } from '../guests/build.js';
import { photo } from '../helpers.js';
import {
  freePort,
  platformTool,
  ROOT,
  runTool,
  SKIP_REASON,
  startTool,
  TOOL_ENV,
  zipEntries,
} from './tools.js';

const netlify = platformTool('netlify');

/** "ready" comes before the function is bundled and registered (slower on a fresh clone). */
async function untilHealthy(base: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const health = await fetch(`${base}/api/healthz`).catch(() => undefined);
    if (health?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('netlify.toml (netlify-cli, offline)', { skip: netlify ? false : SKIP_REASON }, () => {
  it('netlify build --offline zips the function with sharp, both LiteRT builds, descriptors and models', async () => {
    const build = await runTool(netlify as string, ['build', '--offline']);
    assert.equal(build.status, 0, build.output);
    const entries = zipEntries(join(ROOT, '.netlify', 'functions', 'classify.zip'));
    for (const needed of [
      'node_modules/@img/sharp-linux-x64/lib/',
      'node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm',
      'node_modules/@litertjs/core/wasm/litert_wasm_threaded_internal.wasm',
      '.cache/models/mobilenet_v2_1.0_224_quant.tflite',
      'models/imagenet.yaml',
      'package.json',
    ]) {
      assert.ok(
        entries.some((entry) => entry.startsWith(needed)),
        needed,
      );
    }
    const manifest = JSON.parse(
      readFileSync(join(ROOT, '.netlify', 'functions', 'manifest.json'), 'utf8'),
    ) as {
      functions: { name: string; routes: { literal: string }[] }[];
    };
    const routes = manifest.functions.flatMap((fn) => fn.routes.map((route) => route.literal));
    assert.deepEqual(routes.sort(), ['/api/classify', '/api/detect', '/api/healthz', '/api/models']);
  });

  describe('netlify functions:serve --offline', () => {
    let base = '';
    let stop: (() => Promise<void>) | undefined;
    before(async () => {
      const port = await freePort();
      const server = await startTool(
        netlify as string,
        ['functions:serve', '--offline', '--port', String(port)],
        /Local dev server ready/,
      );
      base = `http://localhost:${port}`;
      stop = server.stop;
      await untilHealthy(base);
    });
    after(() => stop?.());

    describeConformance(
      'Netlify, served by netlify-cli',
      overHttp(() => base),
      {
        prefix: '/api',
        maxBodyBytes: BODY_LIMITS.netlify.maxBytes,
        frontEndAnswers: true,
      },
    );
  });

  describe('netlify functions:serve --offline, serving a wasm program', {
    skip: haveClang() ? false : 'clang / wasi-libc not installed',
  }, () => {
    let base = '';
    let expected = '';
    let stop: (() => Promise<void>) | undefined;
    before(async () => {
      const program = programFixture();
      expected = new TextDecoder().decode(
        (await runWasm(program.bytes, { stdin: photo('grace_hopper.jpg') })).stdout,
      );
      const port = await freePort();
      const server = await startTool(
        netlify as string,
        ['functions:serve', '--offline', '--port', String(port)],
        /Local dev server ready/,
        { env: { ...TOOL_ENV, TFLITE_FN_PROGRAM: program.relativePath } },
      );
      base = `http://localhost:${port}`;
      stop = server.stop;
      await untilHealthy(base);
    });
    after(() => stop?.());

    describeProgramConformance(
      'Netlify, served by netlify-cli',
      overHttp(() => base),
      { prefix: '/api', expected: () => expected },
    );
  });
});
