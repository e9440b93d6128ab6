import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventTemplate } from '../../handlers/dev/event-templates.js';
import {
  buildLambdaEvent,
  type HttpResponseParts,
  lambdaResultToHttp,
} from '../../handlers/dev/lambda-events.js';
import {
  buildLayer,
  functionTaskDir,
  type LambdaArch,
  type LayerBuild,
  smokeTest,
  unzipLayer,
} from '../../layers/build.js';
import { FUNCTION_FILES, FUNCTION_HANDLER } from '../../layers/function-package.js';
import { runLambdaFunction } from '../../layers/lambda-run.js';
import { gatewayPath } from '../../scripts/platform-routes.js';
import { MODEL_REPOSITORY, NN_PRELOAD, PROGRAM } from '../../src/config/index.js';
import { platformRoutes } from '../../src/http/routes.js';
import {
  describeRepositoryConformance,
  expectedLabel,
  REPOSITORY_FOLDER,
  repositoryFixture,
  repositoryRequests,
} from '../conformance/repository-suite.js';
import type { InvokeRequest } from '../conformance/suite.js';
import { haveClang, nnProgramFixture, type ProgramFixture, programFixture } from '../guests/build.js';
import { photo, SHARED_MODELS } from '../helpers.js';
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

const ARCHES: LambdaArch[] = ['x86_64', 'arm64'];

/** The total size of a zip's files once unpacked (unzip -l's last line). */
function zipBytesUnpacked(zip: string): number {
  const listing = execFileSync('unzip', ['-l', zip], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return Number(listing.trim().split('\n').pop()?.trim().split(/\s+/)[0]);
}
const HOST: LambdaArch = arch() === 'arm64' ? 'arm64' : 'x86_64';
const MB = 1024 * 1024;

/** A model of the user's own in the repository: no built-in model, so the layer has no conversion of it unless its build adds one. */
const OWN_MODEL = 'wider-classifier';

function addOwnModel(repository: string): void {
  mkdirSync(join(repository, OWN_MODEL, '1'), { recursive: true });
  writeFileSync(
    join(repository, OWN_MODEL, 'config.yaml'),
    'task: classify\ninput: { name: input, width: 192, height: 192, format: rgb8 }\n' +
      'output: { name: MobilenetV1/Predictions/Reshape_1, labels: { file: labels.txt } }\n',
  );
  copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(repository, OWN_MODEL, 'labels.txt'));
  copyFileSync(
    join(SHARED_MODELS, 'mobilenet_v1_0.75_192_quant.tflite'),
    join(repository, OWN_MODEL, '1', 'model.tflite'),
  );
}

describe('Lambda layer', () => {
  const builds = new Map<LambdaArch, LayerBuild>();
  // The model repository a deployment ships in its function package; the layer is built with
  // it (npm run layer -- --model-repository DIR), which adds its versions' conversions.
  const repositoryRoot = mkdtempSync(join(tmpdir(), 'layer-repository-'));
  const repository = join(repositoryRoot, REPOSITORY_FOLDER);
  before(async () => {
    repositoryFixture(repositoryRoot);
    addOwnModel(repository);
    for (const layerArch of ARCHES)
      builds.set(
        layerArch,
        await buildLayer(layerArch, join(ROOT, 'build', 'layers'), { modelRepository: repository }),
      );
  });

  for (const layerArch of ARCHES) {
    it(`${layerArch}: nodejs/node_modules with sharp and onnxruntime for ${layerArch} only, the models and their verified ONNX conversions, two LiteRT builds, no types or docs; within Lambda's 250 MB unzipped`, () => {
      const build = builds.get(layerArch) as LayerBuild;
      // Lambda's limit is on the unzipped function and layers together (250 MB); the zip goes
      // up through S3 (serverless deploy), so the 50 MB direct-upload limit does not apply.
      // Every task's model is in it: ~80 MB zipped, ~156 MB unzipped on x86_64 (measured);
      // 240 MB leaves room for the function package and a program.
      const unzipped = zipBytesUnpacked(build.zip);
      assert.ok(
        unzipped <= 240 * MB,
        `${(unzipped / MB).toFixed(1)} MB unzipped, ${(build.zipBytes / MB).toFixed(1)} MB zipped`,
      );
      const entries = zipEntries(build.zip);
      assert.ok(
        entries.every((entry) => entry.startsWith('nodejs/')),
        'everything under nodejs/, as Lambda expects',
      );
      const cpu = layerArch === 'x86_64' ? 'x64' : 'arm64';
      assert.ok(
        entries.some(
          (e) => e.startsWith(`nodejs/node_modules/@img/sharp-linux-${cpu}/`) && e.endsWith('.node'),
        ),
      );
      assert.ok(
        entries.some((e) => e.startsWith(`nodejs/node_modules/@img/sharp-libvips-linux-${cpu}/lib/`)),
      );
      assert.ok(
        entries.some(
          (e) =>
            e === `nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/${cpu}/onnxruntime_binding.node`,
        ),
        'onnxruntime for this architecture',
      );
      const converted = entries.filter((e) =>
        /^nodejs\/node_modules\/tflite-fn\/\.cache\/onnx\/[0-9a-f]{64}-c\d+\.onnx$/.test(e),
      );
      assert.ok(converted.length >= 6, `every built-in model converted ahead of time (${converted.length})`);
      const otherCpu = layerArch === 'x86_64' ? 'arm64' : 'x64';
      assert.ok(
        !entries.some(
          (e) =>
            e.includes(`linux-${otherCpu}`) ||
            e.includes(`linux/${otherCpu}/`) ||
            e.includes('darwin') ||
            e.includes('win32'),
        ),
        'no other platform binaries',
      );
      for (const model of [
        'mobilenet_v2_1.0_224_quant.tflite',
        'mobilenet_v1_0.25_128_quant.tflite',
        'imagenet_labels.txt',
        'inat_bird_labels.txt',
      ]) {
        assert.ok(entries.includes(`nodejs/node_modules/tflite-fn/.cache/models/${model}`), model);
      }
      for (const face of ['face_detection_full_range.tflite', 'face_detection_short_range.tflite']) {
        assert.ok(
          entries.includes(`nodejs/node_modules/@mediapipe/face_detection/${face}`),
          `${face}, where the core finds npm: files`,
        );
      }
      const wasm = entries.filter(
        (e) => e.startsWith('nodejs/node_modules/@litertjs/core/wasm/') && !e.endsWith('/'),
      );
      assert.deepEqual(wasm.map((e) => e.split('/').pop()).sort(), [
        'litert_wasm_internal.js',
        'litert_wasm_internal.wasm',
        'litert_wasm_threaded_internal.js',
        'litert_wasm_threaded_internal.wasm',
      ]);
      assert.ok(!entries.some((e) => /\.d\.[cm]?ts$|\.map$/.test(e)), 'no type declarations or source maps');
      assert.ok(
        entries.some((e) => /sharp\/LICENSE$/.test(e)),
        'licences stay',
      );
    });
  }

  it(`${HOST}: the function package runs from an empty task folder with the unzipped layer on NODE_PATH, under a runtime polling a Runtime API`, () => {
    const build = builds.get(HOST) as LayerBuild;
    const opt = unzipLayer(build.zip, HOST);
    const result = smokeTest(opt, functionTaskDir(HOST));
    assert.ok(result.ok, result.output);
    assert.match(result.output, /"label":"military uniform","engine":"ort"/);
    const report = JSON.parse(result.output.split('\n').pop() as string) as {
      initMs: number;
      firstInvokeMs: number;
    };
    assert.ok(report.initMs > 0 && report.firstInvokeMs > 0, 'init and first invocation measured apart');
    // No HOME, as on Lambda: onnxruntime must not complain that it cannot write there.
    assert.doesNotMatch(result.output, /onnxruntime|telemetry/i);
  });

  /** The function package with `program`'s files, run from an empty task folder on the layer. */
  const serveFromTaskFolder = (name: string, fixture: (task: string) => ProgramFixture, env = {}) => {
    const build = builds.get(HOST) as LayerBuild;
    const opt = unzipLayer(build.zip, HOST);
    const task = functionTaskDir(`${name}-${HOST}`);
    const program = fixture(task);
    return { program, result: smokeTest(opt, task, { ...program.env, ...env }) };
  };
  const clang = { skip: haveClang() ? false : 'clang / wasi-libc not installed' };

  it(
    `${HOST}: the layer serves a wasm program shipped in the function package (TFLITE_FN_PROGRAM)`,
    clang,
    async () => {
      const { program, result } = serveFromTaskFolder('program', programFixture);
      assert.ok(result.ok, result.output);
      const line = JSON.parse(result.output.split('\n').pop() as string) as { answer: string };
      assert.equal(line.answer, await program.answer(photo('grace_hopper.jpg')));
    },
  );

  it(
    `${HOST}: the layer serves a WASI-NN program with its model preloaded from the function package (TFLITE_FN_NN_PRELOAD)`,
    clang,
    async () => {
      const { program, result } = serveFromTaskFolder('nn-program', nnProgramFixture);
      assert.ok(result.ok, result.output);
      const line = JSON.parse(result.output.split('\n').pop() as string) as { answer: string };
      assert.equal(line.answer, await program.answer(photo('grace_hopper.jpg')));
      assert.match(line.answer, /^It .* in the picture\n$/);
    },
  );

  it(
    `${HOST}: a built-in model preloaded by its id (TFLITE_FN_NN_PRELOAD=default:TensorflowLite:CPU:imagenet): the function package holds only the program`,
    clang,
    async () => {
      const { program, result } = serveFromTaskFolder('nn-builtin', (task) =>
        nnProgramFixture(task, { byId: true }),
      );
      assert.ok(result.ok, result.output);
      const line = JSON.parse(result.output.split('\n').pop() as string) as { answer: string };
      assert.equal(line.answer, await program.answer(photo('grace_hopper.jpg')));
    },
  );

  it(
    `${HOST}: a preloaded model missing from the function package: the init fails with one line naming TFLITE_FN_NN_PRELOAD, and no event is answered`,
    clang,
    () => {
      const { result } = serveFromTaskFolder('nn-missing', nnProgramFixture, {
        TFLITE_FN_NN_PRELOAD: 'default:TensorflowLite:CPU:programs/not-shipped.tflite',
      });
      assert.ok(!result.ok, result.output);
      const line = JSON.parse(result.output.split('\n').pop() as string) as {
        initError?: { errorType: string; errorMessage: string; trace: string[] };
        error?: unknown;
      };
      assert.equal(line.error, undefined, 'no invocation ran');
      const init = line.initError;
      assert.ok(init, result.output);
      assert.match(
        init.errorMessage,
        /^tflite-fn cannot start: TFLITE_FN_NN_PRELOAD: .*cannot read .*not-shipped\.tflite$/,
      );
      // What Lambda logs: the message, then only the runtime's own frames, none of our code.
      assert.equal(init.trace[0], `${init.errorType}: ${init.errorMessage}`);
      assert.deepEqual(
        init.trace.filter((frame) => /tflite-fn\/dist\/|\/dist\/(src|handlers)\//.test(frame)),
        [],
      );
    },
  );

  describe(`${HOST}: a model repository shipped in the function package (TFLITE_FN_MODEL_REPOSITORY)`, () => {
    // One run of the function (init, then the suite's requests as API Gateway events); the
    // suite's checks then read the answers.
    const answers = new Map<string, HttpResponseParts>();
    const key = (request: InvokeRequest) => `${request.method} ${request.path}?${request.query ?? ''}`;
    const ownModelRequest: InvokeRequest = {
      method: 'POST',
      path: '/classify',
      query: `model=${OWN_MODEL}`,
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(photo('grace_hopper.jpg')),
    };
    let label = '';
    before(async () => {
      const build = builds.get(HOST) as LayerBuild;
      const opt = unzipLayer(build.zip, HOST);
      const task = functionTaskDir(`repository-${HOST}`);
      cpSync(repository, join(task, REPOSITORY_FOLDER), { recursive: true });
      const requests = [...repositoryRequests(''), ownModelRequest];
      const run = await runLambdaFunction({
        taskRoot: task,
        handler: FUNCTION_HANDLER,
        events: requests.map((request) =>
          buildLambdaEvent(
            'api-gateway-v2',
            {
              ...request,
              query: request.query ?? '',
              headers: request.headers ?? {},
              body: request.body ?? new Uint8Array(0),
            },
            eventTemplate('api-gateway-v2', 'x.example'),
          ),
        ),
        env: { PATH: process.env.PATH ?? '', NODE_PATH: opt, TFLITE_FN_MODEL_REPOSITORY: REPOSITORY_FOLDER },
      });
      assert.equal(run.initError, undefined, `${run.stdout}${run.stderr}`);
      requests.forEach((request, i) => {
        const response = run.invocations[i]?.response;
        assert.ok(response, `${key(request)}: ${JSON.stringify(run.invocations[i]?.error)}`);
        answers.set(key(request), lambdaResultToHttp(response as Parameters<typeof lambdaResultToHttp>[0]));
      });
      label = await expectedLabel();
    });
    describeRepositoryConformance(
      `Lambda layer (${HOST}), ${REPOSITORY_FOLDER}/ in the task folder`,
      async (request) => answers.get(key(request)) ?? assert.fail(`not sent: ${key(request)}`),
      { prefix: '', expected: () => label },
    );

    it('a model of your own runs on onnxruntime: the layer built with --model-repository ships its conversion', () => {
      const response = answers.get(key(ownModelRequest));
      assert.ok(response);
      const body = JSON.parse(new TextDecoder().decode(response.body)) as {
        model: string;
        label: string;
        engine: string;
      };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.model, OWN_MODEL);
      assert.equal(body.engine, 'ort');
      assert.ok(body.label.length > 0);
    });
  });
});

const serverless = platformTool('serverless');

describe('serverless.yml (Serverless Framework v3, offline)', {
  skip: serverless ? false : SKIP_REASON,
}, () => {
  for (const layerArch of ARCHES) {
    it(`serverless package for ${layerArch}: the function zip is the handler alone; the template has the routes and the layer`, async () => {
      const out = mkdtempSync(join(tmpdir(), `sls-${layerArch}-`));
      const run = await runTool(serverless as string, [
        'package',
        '--param',
        `arch=${layerArch}`,
        '--package',
        out,
      ]);
      assert.equal(run.status, 0, run.output);

      const functionZip = join(out, 'classify.zip');
      // The handler, and programs/ (and model-repository/) if a test or the user put a program
      // (and its models, or a repository) there.
      assert.deepEqual(
        zipEntries(functionZip)
          .filter(
            (entry) =>
              !/^programs\/[^/]+\.(wasm|tflite|onnx)$/.test(entry) &&
              !entry.startsWith(`${REPOSITORY_FOLDER}/`),
          )
          .sort(),
        [...FUNCTION_FILES].sort(),
      );
      assert.ok(statSync(functionZip).size < 1 * MB);

      const template = JSON.parse(
        readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const resources = Object.values(template.Resources);
      const fn = template.Resources.ClassifyLambdaFunction?.Properties ?? {};
      assert.deepEqual(fn.Layers, [{ Ref: 'TfliteLambdaLayer' }]);
      assert.deepEqual(fn.Architectures, [layerArch]);
      assert.equal(fn.Runtime, 'nodejs22.x');
      assert.equal(fn.MemorySize, 1769);
      assert.equal(fn.Handler, FUNCTION_HANDLER);
      const layer = template.Resources.TfliteLambdaLayer?.Properties ?? {};
      assert.deepEqual(layer.CompatibleArchitectures, [layerArch]);
      assert.match(JSON.stringify(layer.Content), new RegExp(`tflite-fn-layer-${layerArch}\\.zip`));
      const routes = resources
        .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
        .map((r) => r.Properties.RouteKey);
      // API Gateway gets exactly the table's platform routes (routes:sync writes the events).
      const table = platformRoutes().flatMap((route) =>
        route.paths.map((path) => `${route.method} ${gatewayPath(path)}`),
      );
      assert.deepEqual([...routes].sort(), table.sort());
      // Least privilege: the role may only write the function's logs.
      const role = template.Resources.IamRoleLambdaExecution?.Properties as {
        Policies: { PolicyDocument: { Statement: { Action: string[] }[] } }[];
      };
      const actions = role.Policies.flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => s.Action));
      assert.ok(actions.length > 0 && actions.every((a) => a.startsWith('logs:')), actions.join(', '));
    });
  }

  it('serverless package --param program=... --param nnPreload=... --param modelRepository=... ships the program, its model and the repository and sets the three', {
    skip: haveClang() ? false : 'clang / wasi-libc not installed',
  }, async () => {
    const program = nnProgramFixture(ROOT);
    const repository = repositoryFixture(ROOT);
    const out = mkdtempSync(join(tmpdir(), 'sls-program-'));
    const run = await runTool(serverless as string, [
      'package',
      '--param',
      `program=${PROGRAM.text(program.env)}`,
      '--param',
      `nnPreload=${NN_PRELOAD.text(program.env)}`,
      '--param',
      `modelRepository=${MODEL_REPOSITORY.text(repository.env)}`,
      '--package',
      out,
    ]);
    assert.equal(run.status, 0, run.output);
    const entries = zipEntries(join(out, 'classify.zip'));
    for (const file of [...program.files, ...repository.files])
      assert.ok(entries.includes(file), `${file} is packaged`);
    const template = JSON.parse(
      readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as {
      Resources: {
        ClassifyLambdaFunction: { Properties: { Environment: { Variables: Record<string, string> } } };
      };
    };
    const variables = template.Resources.ClassifyLambdaFunction.Properties.Environment.Variables;
    assert.equal(PROGRAM.text(variables), PROGRAM.text(program.env));
    assert.equal(NN_PRELOAD.text(variables), NN_PRELOAD.text(program.env));
    assert.equal(MODEL_REPOSITORY.text(variables), MODEL_REPOSITORY.text(repository.env));
  });

  it('serverless invoke local runs the handler with an API Gateway v2 event fixture', async () => {
    const template = JSON.parse(
      readFileSync(join(ROOT, 'test', 'events', 'aws-lambda', 'api-gateway-v2.json'), 'utf8'),
    ) as object;
    const event = buildLambdaEvent(
      'api-gateway-v2',
      {
        method: 'POST',
        path: '/classify',
        query: 'top=2',
        headers: { 'content-type': 'image/jpeg' },
        body: photo('grace_hopper.jpg'),
      },
      template,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'sls-event-')), 'event.json');
    writeFileSync(file, JSON.stringify(event));
    const run = await runTool(serverless as string, ['invoke', 'local', '-f', 'classify', '--path', file]);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /"statusCode": 200/);
    assert.match(run.output, /military uniform/);
  });
});

const offlinePlugin = join(ROOT, 'platforms', 'node_modules', 'serverless-offline');

describe('serverless offline (13.9, the v3 line)', {
  skip: serverless && existsSync(offlinePlugin) ? false : SKIP_REASON,
}, () => {
  let base = '';
  let stop: (() => Promise<void>) | undefined;

  before(async () => {
    // A service folder holding the function package (handler.mjs) and, as Lambda would have on
    // /opt, the layer's tflite-fn: serverless-offline ignores layers, so it gets a link.
    const built = join(ROOT, 'build', 'layers', `tflite-fn-layer-${HOST}.zip`);
    const zip = existsSync(built) ? built : (await buildLayer(HOST, join(ROOT, 'build', 'layers'))).zip;
    const opt = unzipLayer(zip, `offline-${HOST}`);
    const service = mkdtempSync(join(tmpdir(), 'sls-offline-'));
    for (const file of FUNCTION_FILES) copyFileSync(join(ROOT, file), join(service, basename(file)));
    mkdirSync(join(service, 'node_modules'));
    symlinkSync(offlinePlugin, join(service, 'node_modules', 'serverless-offline'));
    symlinkSync(join(opt, 'tflite-fn'), join(service, 'node_modules', 'tflite-fn'));
    writeFileSync(
      join(service, 'serverless.yml'),
      "service: tflite-fn-offline\nframeworkVersion: '3'\nplugins: [serverless-offline]\nprovider: { name: aws, runtime: nodejs20.x, timeout: 30 }\n" +
        "functions:\n  classify:\n    handler: handler.handler\n    events: [{ httpApi: 'POST /classify' }]\n",
    );
    const port = await freePort();
    // On Node 20.20 serverless-offline needs require(esm) off ("Cannot redefine property").
    const env = { ...TOOL_ENV, NODE_OPTIONS: '--no-experimental-require-module' };
    const server = await startTool(
      serverless as string,
      ['offline', 'start', '--httpPort', String(port), '--lambdaPort', String(await freePort())],
      /Server ready/,
      { cwd: service, env },
    );
    base = `http://localhost:${port}`;
    stop = server.stop;
  });
  after(() => stop?.());

  const post = (type: string, body: Uint8Array) =>
    fetch(`${base}/classify`, { method: 'POST', headers: { 'content-type': type }, body });

  it('corrupts image/jpeg bodies (it passes them as UTF-8 text; real API Gateway base64-encodes them)', async () => {
    const response = await post('image/jpeg', photo('grace_hopper.jpg'));
    assert.equal(response.status, 415);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unsupported_image');
  });

  it('passes application/octet-stream bodies intact: the workaround the README gives', async () => {
    const image = photo('grace_hopper.jpg');
    const response = await post('application/octet-stream', image);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { label: string; received: { bytes: number } };
    assert.equal(body.label, 'military uniform');
    assert.equal(body.received.bytes, image.length);
  });
});
