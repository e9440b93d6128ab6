import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { handler } from '../handlers/aws-lambda/index.js';
import { buildLambdaEvent, LAMBDA_EVENT_KINDS, lambdaResultToHttp } from '../handlers/dev/lambda-events.js';
import { FUNCTION_ENTRY, FUNCTION_FILES, FUNCTION_HANDLER } from '../layers/function-package.js';
import { type FunctionRun, realRuntimeClient, runLambdaFunction } from '../layers/lambda-run.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import type { Classification } from '../src/index.js';
import { defaultCatalog } from '../src/model/catalog.js';
import { bundledCacheDir, packageRoot } from '../src/store/paths.js';
import { TASKS } from '../src/tasks/index.js';
import { describeConformance } from './conformance/suite.js';
import { photo } from './helpers.js';

const EVENTS = join(packageRoot(), 'test', 'events', 'aws-lambda');

function fixture(name: string): object {
  return JSON.parse(readFileSync(join(EVENTS, `${name}.json`), 'utf8')) as object;
}

for (const kind of LAMBDA_EVENT_KINDS) {
  const template = fixture(kind);
  describeConformance(
    `AWS Lambda (${kind})`,
    async (request) => {
      const event = buildLambdaEvent(
        kind,
        {
          method: request.method,
          path: request.path,
          query: request.query ?? '',
          headers: request.headers ?? {},
          body: request.body ?? new Uint8Array(0),
        },
        template,
      );
      // The event travels as JSON, as it does from AWS to the runtime.
      const result = await handler(JSON.parse(JSON.stringify(event)));
      return lambdaResultToHttp(result as Parameters<typeof lambdaResultToHttp>[0]);
    },
    // Lambda counts the event as it arrives: the base64 of a binary body.
    { prefix: '', maxBodyBytes: Math.floor((BODY_LIMITS.lambda.maxBytes * 3) / 4) },
  );
}

describe('AWS Lambda: direct invocation', () => {
  it('{"image": base64} → the classification as JSON', async () => {
    const event = { ...fixture('direct'), image: photo('grace_hopper.jpg').toString('base64') };
    const result = (await handler(event as never)) as Classification;
    assert.equal(result.label, 'military uniform');
    assert.equal(result.top.length, 3);
  });

  it('{"task": id, "image": base64, ...options}: any task of TASKS, its JSON', async () => {
    const image = photo('grace_hopper.jpg').toString('base64');
    for (const task of TASKS) {
      const result = (await handler({ task: task.id, image } as never)) as { model: string; image: object };
      assert.equal(result.model, defaultCatalog().defaultModelFor(task), task.id);
      assert.deepEqual(result.image, { format: 'jpeg', width: 517, height: 606 }, task.id);
    }
    const faces = (await handler({ task: 'detect', image, tiling: false } as never)) as { faces: unknown[] };
    assert.equal(faces.faces.length, 1);
    const unknown = (await handler({ task: 'nope', image } as never)) as {
      status: number;
      error: { code: string };
    };
    assert.deepEqual([unknown.status, unknown.error.code], [400, 'unknown_task']);
  });

  it('errors come back as {error, status}, not as a thrown Lambda error', async () => {
    const result = (await handler({ image: Buffer.from('not an image').toString('base64') } as never)) as {
      error: { code: string };
      status: number;
    };
    assert.deepEqual([result.status, result.error.code], [415, 'unsupported_image']);
    const bad = (await handler({ image: '%%%' } as never)) as { status: number; error: { code: string } };
    assert.deepEqual([bad.status, bad.error.code], [400, 'bad_base64']);
  });
});

/** The file of the function package Lambda loads: the ES module. */
const FUNCTION_SOURCE = join(packageRoot(), FUNCTION_ENTRY);
/** Lambda runs functions as an unprivileged user; as root, a read-only folder is not. */
const NOBODY = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** Every path under `dir`, for before/after comparisons. */
function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('AWS Lambda: init loads the model before the first event', () => {
  it('importing the function package (top-level await) leaves the default model loaded and warm', () => {
    // A fresh process: after the import, has the catalog's load of the default model settled?
    // A settled promise's callback runs before the next macrotask; a load still reading files
    // or building its session cannot.
    const catalog = pathToFileURL(join(packageRoot(), 'dist', 'src', 'model', 'catalog.js')).href;
    const script = `
      await import(${JSON.stringify(pathToFileURL(FUNCTION_SOURCE).href)});
      const { defaultCatalog } = await import(${JSON.stringify(catalog)});
      const state = { loadedBeforeImportReturned: false };
      defaultCatalog().load().then(() => { state.loadedBeforeImportReturned = true; });
      await new Promise((resolve) => setImmediate(resolve));
      console.log(JSON.stringify(state));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageRoot(),
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(output.trim().split('\n').pop() as string), {
      loadedBeforeImportReturned: true,
    });
  });
});

describe('AWS Lambda: a deployment that cannot serve as configured fails its init, in one line', () => {
  /** The function package run under the local Runtime API with `env`; one event is queued. */
  const runWith = async (env: Record<string, string>): Promise<FunctionRun> => {
    const base = mkdtempSync(join(tmpdir(), 'lambda-init-'));
    try {
      const layerModules = join(base, 'opt', 'nodejs', 'node_modules');
      const task = join(base, 'task');
      mkdirSync(layerModules, { recursive: true });
      symlinkSync(packageRoot(), join(layerModules, 'tflite-fn'));
      for (const file of FUNCTION_FILES) {
        mkdirSync(join(task, dirname(file)), { recursive: true });
        copyFileSync(join(packageRoot(), file), join(task, file));
      }
      return await runLambdaFunction({
        taskRoot: task,
        handler: FUNCTION_HANDLER,
        events: [{ image: photo('grace_hopper.jpg').toString('base64') }],
        env: {
          PATH: process.env.PATH ?? '',
          NODE_PATH: layerModules,
          HOME: base,
          TMPDIR: base,
          TFLITE_FN_THREADS: '1',
          ...env,
        },
        ...(realRuntimeClient() ? { ric: realRuntimeClient() as string } : {}),
      });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
  const initMessage = (run: FunctionRun) => {
    assert.equal(run.invocations.length, 0, 'no event is answered by a function that could not start');
    const message = (run.initError as { errorMessage?: string } | undefined)?.errorMessage ?? '';
    assert.doesNotMatch(message, /\n/, 'one line');
    return message;
  };

  it('a model repository folder that is not there', async () => {
    const run = await runWith({ TFLITE_FN_MODEL_REPOSITORY: '/nonexistent/model-repository' });
    assert.match(
      initMessage(run),
      /^tflite-fn cannot start: the model repository \/nonexistent\/model-repository is not a folder/,
    );
  });

  it('a TFLITE_FN_* variable with a value it does not accept', async () => {
    const run = await runWith({ TFLITE_FN_REPOSITORY_POLL_MS: 'soon' });
    assert.match(initMessage(run), /^tflite-fn cannot start: .*TFLITE_FN_REPOSITORY_POLL_MS/);
  });
});

describe('AWS Lambda: the function package under a local Runtime API, HOME read-only, only TMPDIR writable', () => {
  let base = '';
  let home = '';
  let writableTmp = '';
  let task = '';
  let run: FunctionRun;
  const before_ = { home: [] as string[], task: [] as string[], cache: [] as string[] };

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'lambda-run-'));
    chmodSync(base, 0o755);
    home = join(base, 'home');
    writableTmp = join(base, 'tmp');
    task = join(base, 'task');
    const layerModules = join(base, 'opt', 'nodejs', 'node_modules');
    mkdirSync(home);
    mkdirSync(writableTmp);
    mkdirSync(layerModules, { recursive: true });
    // As on Lambda: the package comes from the layer on NODE_PATH, not from the task folder.
    symlinkSync(packageRoot(), join(layerModules, 'tflite-fn'));
    for (const file of FUNCTION_FILES) {
      mkdirSync(join(task, dirname(file)), { recursive: true });
      copyFileSync(join(packageRoot(), file), join(task, file));
    }
    chmodSync(home, 0o555);
    chmodSync(task, 0o555);
    chmodSync(writableTmp, 0o1777);
    before_.home = listTree(home);
    before_.task = listTree(task);
    before_.cache = listTree(bundledCacheDir());
    const image = photo('grace_hopper.jpg');
    const httpEvent = buildLambdaEvent(
      'api-gateway-v2',
      {
        method: 'POST',
        path: '/classify',
        query: 'top=2',
        headers: { 'content-type': 'image/jpeg' },
        body: image,
      },
      fixture('api-gateway-v2'),
    );
    run = await runLambdaFunction({
      taskRoot: task,
      handler: FUNCTION_HANDLER,
      events: [
        httpEvent,
        { image: image.toString('base64') },
        { image: Buffer.from('not an image').toString('base64') },
      ],
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: layerModules,
        HOME: home,
        TMPDIR: writableTmp,
        TFLITE_FN_THREADS: '1',
      },
      ...(realRuntimeClient() ? { ric: realRuntimeClient() as string } : {}),
      ...NOBODY,
    });
  });

  after(() => {
    if (!base) return;
    chmodSync(home, 0o755);
    chmodSync(task, 0o755);
    rmSync(base, { recursive: true, force: true });
  });

  it('init ends with a poll for an event, and every event is answered', () => {
    assert.equal(run.initError, undefined, `${run.stdout}${run.stderr}`);
    assert.ok(Number.isFinite(run.initMs), 'the runtime asked for an event');
    assert.equal(run.invocations.length, 3, run.stderr);
    const [http, direct, bad] = run.invocations.map((invocation) => invocation.response) as [
      { statusCode: number; body: string; isBase64Encoded: boolean },
      { label: string },
      { status: number; error: { code: string } },
    ];
    assert.equal(http.statusCode, 200, http.body);
    const body = http.isBase64Encoded ? Buffer.from(http.body, 'base64').toString('utf8') : http.body;
    const classification = JSON.parse(body) as { label: string; top: unknown[] };
    assert.equal(classification.label, 'military uniform');
    assert.equal(classification.top.length, 2);
    assert.equal(direct.label, 'military uniform');
    assert.deepEqual([bad.status, bad.error.code], [415, 'unsupported_image']);
  });

  it('no onnxruntime warning on stderr, nothing written to HOME, the task folder or the model cache', () => {
    assert.doesNotMatch(run.stderr, /onnxruntime|telemetry|\[W:/i, run.stderr);
    assert.deepEqual(listTree(home), before_.home, 'HOME untouched');
    assert.deepEqual(listTree(task), before_.task, 'task folder untouched');
    assert.deepEqual(listTree(bundledCacheDir()), before_.cache, 'model and conversion cache untouched');
  });
});

describe('Lambda runtime stand-ins (layers/runtime-api, runtime-client): failures reach the Runtime API', () => {
  const run = async (source: string, file: string, events: unknown[]) => {
    const task = mkdtempSync(join(tmpdir(), 'lambda-stand-in-'));
    try {
      writeFileSync(join(task, file), source);
      return await runLambdaFunction({
        taskRoot: task,
        handler: `${file.split('.')[0]}.handler`,
        events,
        env: { PATH: process.env.PATH ?? '' },
        ...(realRuntimeClient() ? { ric: realRuntimeClient() as string } : {}),
      });
    } finally {
      rmSync(task, { recursive: true, force: true });
    }
  };

  it('a handler module that throws while loading is an init error, and no event is answered', async () => {
    const result = await run("throw new Error('broken at import');\n", 'index.mjs', [{}]);
    assert.equal(result.invocations.length, 0);
    assert.match(JSON.stringify(result.initError), /broken at import/);
  });

  it('a CommonJS handler loads, answers, and a thrown error comes back as the invocation error', async () => {
    const source =
      "exports.handler = async (event) => { if (event.fail) throw new TypeError('asked to fail'); return { echo: event.n }; };\n";
    const result = await run(source, 'index.cjs', [{ n: 1 }, { fail: true }, { n: 3 }]);
    assert.equal(result.initError, undefined, result.stderr);
    const [first, failed, third] = result.invocations;
    assert.deepEqual(first?.response, { echo: 1 });
    assert.equal(failed?.error?.errorType, 'TypeError');
    assert.equal(failed?.error?.errorMessage, 'asked to fail');
    assert.deepEqual(third?.response, { echo: 3 }, 'the runtime keeps serving after an error');
  });
});
