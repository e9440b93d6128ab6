import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { NETLIFY_FUNCTION_LIMIT_BYTES } from '../../scripts/function-size.js';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { platformRoutes } from '../../src/http/routes.js';
import { overHttp } from '../conformance/over-http.js';
import { describeProgramConformance } from '../conformance/program-suite.js';
import {
  describeRepositoryConformance,
  expectedLabel,
  REPOSITORY_FOLDER,
  type RepositoryFixture,
  repositoryFixture,
} from '../conformance/repository-suite.js';
import { describeConformance } from '../conformance/suite.js';
import { haveClang, nnProgramFixture, type ProgramFixture, programFixture } from '../guests/build.js';
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
  describe('the function netlify build --offline zips', () => {
    let base = '';
    let repositoryBase = '';
    let repositoryLabel = '';
    let repository: RepositoryFixture | undefined;
    let nnBase = '';
    let nnExpected = '';
    let nnProgram: ProgramFixture | undefined;
    let stop: (() => Promise<void>) | undefined;
    let entries: string[] = [];
    before(async () => {
      // A model repository in model-repository/ before the build, so the zip ships it.
      repository = repositoryFixture(ROOT);
      // A WASI-NN program in programs/ before the build (included_files), preloading the
      // built-in model by its id: the function has its conversion, not its .tflite.
      if (haveClang()) {
        nnProgram = nnProgramFixture(ROOT, { byId: true });
        nnExpected = await nnProgram.answer(photo('grace_hopper.jpg'));
      }
      const build = await runTool(netlify as string, ['build', '--offline']);
      assert.equal(build.status, 0, build.output);
      const zip = join(ROOT, '.netlify', 'functions', 'classify.zip');
      entries = zipEntries(zip);
      zipBytes = statSync(zip).size;
      // Run what would be uploaded: the zip, unpacked into an empty folder.
      const unpacked = mkdtempSync(join(tmpdir(), 'netlify-func-'));
      const unzip = await runTool('unzip', ['-q', zip, '-d', unpacked]);
      assert.equal(unzip.status, 0, unzip.output);
      const serving = (env: Readonly<Record<string, string>> = {}) =>
        startTool(
          process.execPath,
          [
            join(ROOT, 'dist', 'test', 'platforms', 'serve-built.js'),
            join(unpacked, 'netlify', 'functions', 'classify.mjs'),
          ],
          /listening (\S+)/,
          { cwd: unpacked, env: { ...TOOL_ENV, ...env } },
        );
      const server = await serving();
      // The same zip, deployed with TFLITE_FN_MODEL_REPOSITORY=model-repository.
      const repositoryServer = await serving(repository.env);
      base = server.match[1] as string;
      repositoryBase = repositoryServer.match[1] as string;
      repositoryLabel = await expectedLabel();
      // The same zip, deployed with the WASI-NN program and TFLITE_FN_NN_PRELOAD.
      const nnServer = nnProgram ? await serving(nnProgram.env) : undefined;
      nnBase = (nnServer?.match[1] as string | undefined) ?? '';
      stop = async () => {
        await Promise.all([server.stop(), repositoryServer.stop(), nnServer?.stop()]);
      };
    });
    after(() => stop?.());
    let zipBytes = 0;

    it('serves a WASI-NN program shipped in programs/, the built-in model preloaded by its id from its conversion alone', {
      skip: haveClang() ? false : 'clang / wasi-libc not installed',
    }, async () => {
      for (const file of nnProgram?.files ?? []) assert.ok(entries.includes(file), `${file} is shipped`);
      assert.ok(!entries.includes('.cache/models/mobilenet_v2_1.0_224_quant.tflite'), 'not the .tflite');
      const response = await fetch(`${nnBase}/api/classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo('grace_hopper.jpg'),
      });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      assert.equal(text, nnExpected);
    });

    it("is under Netlify's 50 MB: sharp, onnxruntime for linux x64 only, the converted models; no LiteRT wasm, only the .tflite files tasks read at load", () => {
      assert.ok(zipBytes <= NETLIFY_FUNCTION_LIMIT_BYTES, `${(zipBytes / 2 ** 20).toFixed(1)} MB`);
      for (const needed of [
        'node_modules/@img/sharp-linux-x64/lib/',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
        '.cache/onnx/',
        '.cache/models/imagenet_labels.txt',
        'models/imagenet.yaml',
        'dist/src/wasm/guest-worker.js',
        'package.json',
        ...(repository?.files ?? []),
      ]) {
        assert.ok(
          entries.some((entry) => entry.startsWith(needed)),
          needed,
        );
      }
      assert.ok(entries.filter((e) => e.endsWith('.onnx')).length >= 6, 'every built-in model converted');
      // The .tflite files only of the models whose task reads constants from them at load
      // (and the model repository's, which it ships whole).
      assert.deepEqual(
        entries.filter((entry) => entry.endsWith('.tflite') && !entry.startsWith('model-repository/')).sort(),
        [
          '.cache/models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite',
          '.cache/models/ssd_mobilenet_v1_coco_quant_detect.tflite',
        ],
      );
      for (const absent of [
        /litert_wasm.*\.wasm$/,
        /onnxruntime-node\/bin\/napi-v6\/(darwin|win32|linux\/arm64)/,
      ]) {
        assert.ok(!entries.some((entry) => absent.test(entry)), `${absent} is not shipped`);
      }
      const manifest = JSON.parse(
        readFileSync(join(ROOT, '.netlify', 'functions', 'manifest.json'), 'utf8'),
      ) as {
        functions: { name: string; routes: { pattern: string }[] }[];
      };
      // `pattern` is the path as declared (a path with parameters has no `literal`).
      const routes = manifest.functions.flatMap((fn) => fn.routes.map((route) => route.pattern));
      // What Netlify routes to the function is the table's platform paths (routes:sync writes them).
      assert.deepEqual(
        routes.sort(),
        platformRoutes()
          .flatMap((route) => route.paths)
          .sort(),
      );
    });

    it('answers on the native engine', async () => {
      const response = await fetch(`${base}/api/classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo('grace_hopper.jpg'),
      });
      const body = (await response.json()) as { label: string; engine: string };
      assert.equal(body.label, 'military uniform');
      assert.equal(body.engine, 'ort');
    });

    describeConformance(
      'Netlify, the unzipped function',
      overHttp(() => base),
      { prefix: '/api', maxBodyBytes: BODY_LIMITS.netlify.maxBytes, nativeOnly: true, fewerModels: true },
    );

    // No LiteRT here: the repository's version runs on the verified conversion its sha256 names
    // (a copy of a built-in model: set-up's; a model of yours: tflite-fn convert --model-repository).
    describeRepositoryConformance(
      'Netlify, the unzipped function with a model repository (TFLITE_FN_MODEL_REPOSITORY=model-repository)',
      overHttp(() => repositoryBase),
      { prefix: '/api', expected: () => repositoryLabel, engine: 'ort' },
    );
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

  it('netlify build fails in one line when a shipped model repository takes the function over 50 MB', async () => {
    // Incompressible bytes, as large as the limit: over it whatever else the zip holds. (Its
    // check, in the repository's scan, would refuse it as a model; the build ships it all the same.)
    const folder = join(ROOT, REPOSITORY_FOLDER, 'oversized');
    mkdirSync(join(folder, '1'), { recursive: true });
    writeFileSync(join(folder, '1', 'model.tflite'), randomBytes(NETLIFY_FUNCTION_LIMIT_BYTES + 1024 * 1024));
    try {
      const build = await runTool(netlify as string, ['build', '--offline']);
      assert.notEqual(build.status, 0, 'the build failed');
      const plain = stripVTControlCharacters(build.output);
      assert.match(
        plain,
        /the Netlify function classify \(zipped\) is \d+\.\d MB, over Netlify's limit of 50 MB; the model repository model-repository\/ is \d+\.\d MB of it/,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
      // The oversized zip the build left is no use to anything after this test.
      rmSync(join(ROOT, '.netlify', 'functions', 'classify.zip'), { force: true });
    }
  });

  const programs: [string, (root: string) => ProgramFixture][] = [
    ['a wasm program', programFixture],
    ['a WASI-NN program, its model preloaded', nnProgramFixture],
  ];
  for (const [what, fixture] of programs) {
    describe(`netlify functions:serve --offline, serving ${what}`, {
      skip: haveClang() ? false : 'clang / wasi-libc not installed',
    }, () => {
      let base = '';
      let expected = '';
      let stop: (() => Promise<void>) | undefined;
      before(async () => {
        const program = fixture(ROOT);
        expected = await program.answer(photo('grace_hopper.jpg'));
        const port = await freePort();
        const server = await startTool(
          netlify as string,
          ['functions:serve', '--offline', '--port', String(port)],
          /Local dev server ready/,
          { env: { ...TOOL_ENV, ...program.env } },
        );
        base = `http://localhost:${port}`;
        stop = server.stop;
        await untilHealthy(base);
      });
      after(() => stop?.());

      describeProgramConformance(
        `Netlify, served by netlify-cli, ${what}`,
        overHttp(() => base),
        { prefix: '/api', expected: () => expected },
      );
    });
  }
});
