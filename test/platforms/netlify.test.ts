import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { overHttp } from '../conformance/over-http.js';
import { describeConformance } from '../conformance/suite.js';
import { freePort, platformTool, ROOT, runTool, SKIP_REASON, startTool, zipEntries } from './tools.js';

const netlify = platformTool('netlify');

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
      // "ready" comes before the function is bundled and registered (slower on a fresh clone):
      // wait until it answers.
      for (let i = 0; i < 120; i++) {
        const health = await fetch(`${base}/api/healthz`).catch(() => undefined);
        if (health?.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
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
});
