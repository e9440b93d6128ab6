import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vercelApiPaths } from '../../scripts/platform-routes.js';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { platformRoutes } from '../../src/http/routes.js';
import { overHttp } from '../conformance/over-http.js';
import { describeProgramConformance } from '../conformance/program-suite.js';
import {
  describeRepositoryConformance,
  expectedLabel,
  type RepositoryFixture,
  repositoryFixture,
} from '../conformance/repository-suite.js';
import { describeConformance } from '../conformance/suite.js';
import { nnProgramFixture, type ProgramFixture, programFixture } from '../guests/build.js';
import { photo } from '../helpers.js';
import { platformTool, ROOT, runTool, SKIP_REASON, startTool, TOOL_ENV } from './tools.js';

interface VcConfig {
  handler: string;
  runtime: string;
  memory: number;
  maxDuration: number;
  filePathMap?: Record<string, string>;
}

const vercel = platformTool('vercel');
const FUNCTIONS = join(ROOT, '.vercel', 'output', 'functions', 'api');

/**
 * A .func folder lists some files by reference (filePathMap) rather than copying them; Vercel
 * copies them at upload. We do the same into a temporary folder, so what runs is only what
 * would be deployed.
 */
function materialise(func: string): string {
  const target = join(mkdtempSync(join(tmpdir(), 'vercel-func-')), 'func');
  cpSync(func, target, { recursive: true });
  const config = JSON.parse(readFileSync(join(func, '.vc-config.json'), 'utf8')) as VcConfig;
  for (const [inFunction, source] of Object.entries(config.filePathMap ?? {})) {
    mkdirSync(dirname(join(target, inFunction)), { recursive: true });
    cpSync(join(ROOT, source), join(target, inFunction));
  }
  return target;
}

describe('vercel.json (vercel build, offline)', { skip: vercel ? false : SKIP_REASON }, () => {
  let base = '';
  let programBase = '';
  let nnProgramBase = '';
  let byIdBase = '';
  let repositoryBase = '';
  let repository: RepositoryFixture;
  let repositoryLabel = '';
  let program: ProgramFixture;
  let nnProgram: ProgramFixture;
  let expected = '';
  let nnExpected = '';
  let stop: (() => Promise<void>) | undefined;

  before(async () => {
    // `vercel build` needs a linked project; offline, a hand-written link does.
    const link = join(ROOT, '.vercel', 'project.json');
    if (!existsSync(link)) {
      mkdirSync(dirname(link), { recursive: true });
      writeFileSync(
        link,
        JSON.stringify({ projectId: 'prj_local', orgId: 'team_local', settings: { framework: null } }),
      );
    }
    // Programs in programs/ before the build, so the function ships them (includeFiles): the
    // 0.2 classic, and the WASI-NN one with the model it preloads.
    program = programFixture(ROOT);
    nnProgram = nnProgramFixture(ROOT);
    // And a model repository in model-repository/ (includeFiles).
    repository = repositoryFixture(ROOT);
    const build = await runTool(vercel as string, ['build', '--yes']);
    assert.equal(build.status, 0, build.output);
    const func = materialise(join(FUNCTIONS, 'classify.func'));
    const config = JSON.parse(readFileSync(join(func, '.vc-config.json'), 'utf8')) as VcConfig;
    const server = await startTool(
      process.execPath,
      [join(ROOT, 'dist', 'test', 'platforms', 'serve-built.js'), join(func, config.handler)],
      /listening (\S+)/,
      { cwd: func },
    );
    base = server.match[1] as string;
    // The same built function, deployed with TFLITE_FN_PROGRAM (and TFLITE_FN_NN_PRELOAD) set.
    const serving = (env: Readonly<Record<string, string>>) =>
      startTool(
        process.execPath,
        [join(ROOT, 'dist', 'test', 'platforms', 'serve-built.js'), join(func, config.handler)],
        /listening (\S+)/,
        { cwd: func, env: { ...TOOL_ENV, ...env } },
      );
    const programServer = await serving(program.env);
    const nnProgramServer = await serving(nnProgram.env);
    // The built-in model by its id: the function's own .cache/models file, no copy.
    const byIdServer = await serving({
      ...nnProgram.env,
      TFLITE_FN_NN_PRELOAD: 'default:TensorflowLite:CPU:imagenet',
    });
    // ... and with TFLITE_FN_MODEL_REPOSITORY=model-repository.
    const repositoryServer = await serving(repository.env);
    programBase = programServer.match[1] as string;
    nnProgramBase = nnProgramServer.match[1] as string;
    byIdBase = byIdServer.match[1] as string;
    repositoryBase = repositoryServer.match[1] as string;
    repositoryLabel = await expectedLabel();
    expected = await program.answer(photo('grace_hopper.jpg'));
    nnExpected = await nnProgram.answer(photo('grace_hopper.jpg'));
    stop = async () => {
      await Promise.all([
        server.stop(),
        programServer.stop(),
        nnProgramServer.stop(),
        byIdServer.stop(),
        repositoryServer.stop(),
      ]);
    };
  });
  after(() => stop?.());

  it('builds one function per route with the memory, duration and files vercel.json gives', () => {
    // One function per api/ file (api/v2.ts serves every /api/v2/... path through rewrites).
    const apiNames = vercelApiPaths(platformRoutes()).map((path) => path.slice('/api/'.length));
    for (const route of apiNames) {
      const config = JSON.parse(
        readFileSync(join(FUNCTIONS, `${route}.func`, '.vc-config.json'), 'utf8'),
      ) as VcConfig;
      assert.equal(config.memory, 1024);
      assert.equal(config.maxDuration, 10);
      assert.match(config.runtime, /^nodejs2[2-9]\.x$/);
      const files = Object.keys(config.filePathMap ?? {});
      for (const needed of [
        'models/imagenet.yaml',
        '.cache/models/mobilenet_v2_1.0_224_quant.tflite',
        'node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm',
        ...program.files,
        ...nnProgram.files,
        ...repository.files,
      ]) {
        assert.ok(files.includes(needed), `${route} ships ${needed}`);
      }
      assert.ok(
        !files.some((f) => f.includes('litert_wasm_compat') || f.includes('jspi')),
        'only the LiteRT builds we load',
      );
    }
    assert.ok(
      existsSync(join(FUNCTIONS, 'classify.func', 'node_modules', '@img', 'sharp-linux-x64')),
      'sharp for Linux x64',
    );
  });

  describeConformance(
    'Vercel, the function vercel build produced',
    overHttp(() => base),
    {
      prefix: '/api',
      maxBodyBytes: BODY_LIMITS.vercel.maxBytes,
    },
  );

  describeProgramConformance(
    'Vercel, the built function serving a wasm program',
    overHttp(() => programBase),
    { prefix: '/api', expected: () => expected },
  );

  it('the built function preloads a built-in model by its id (default:TensorflowLite:CPU:imagenet)', async () => {
    const response = await fetch(`${byIdBase}/api/classify`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: photo('grace_hopper.jpg'),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal(text, nnExpected);
  });

  describeProgramConformance(
    'Vercel, the built function serving a WASI-NN program, its model preloaded',
    overHttp(() => nnProgramBase),
    { prefix: '/api', expected: () => nnExpected },
  );

  describeRepositoryConformance(
    'Vercel, the built function with a model repository (TFLITE_FN_MODEL_REPOSITORY=model-repository)',
    overHttp(() => repositoryBase),
    { prefix: '/api', expected: () => repositoryLabel },
  );
});
