/**
 * Every in-process platform handler, the dev emulator and the server, deployed the way a user
 * deploys a WasmEdge-style program: TFLITE_FN_PROGRAM names a .wasm under programs/. The
 * handlers read it when first loaded, so it is set before any of them is imported (this file
 * runs in its own process).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { eventTemplate } from '../handlers/dev/event-templates.js';
import { buildLambdaEvent, lambdaResultToHttp } from '../handlers/dev/lambda-events.js';
import { runWasm } from '../src/wasm/sandbox.js';
import { overHttp } from './conformance/over-http.js';
import { describeProgramConformance } from './conformance/program-suite.js';
import { invokeWebHandler } from './conformance/web-handler.js';
import { haveClang, programFixture } from './guests/build.js';
import { photo } from './helpers.js';

if (!haveClang() && process.env.CI) throw new Error('clang and wasi-libc are missing: .ci/run installs them');

const skip = haveClang() ? false : 'clang / wasi-libc not installed';
let expected = '';

describe('a deployment serving a wasm program (TFLITE_FN_PROGRAM)', { skip }, async () => {
  if (skip) return;
  // The deployment's folder is a temporary one, and the working folder, so that the relative
  // TFLITE_FN_PROGRAM resolves there as it does in a deployed function.
  const deployment = mkdtempSync(join(tmpdir(), 'tflite-fn-deployment-'));
  const fixture = programFixture(deployment);
  process.chdir(deployment);
  process.env.TFLITE_FN_PROGRAM = fixture.relativePath;
  expected = new TextDecoder().decode(
    (await runWasm(fixture.bytes, { stdin: photo('grace_hopper.jpg') })).stdout,
  );
  const options = (prefix: string) => ({ prefix, expected: () => expected });

  const { handler: lambda } = await import('../handlers/aws-lambda/index.js');
  const vercel = await import('../handlers/vercel/index.js');
  const { default: netlify } = await import('../handlers/netlify/index.js');
  const { startDevServer } = await import('../handlers/dev/server.js');
  const { serverConfig } = await import('../handlers/server/config.js');
  const { startServer } = await import('../handlers/server/server.js');

  describeProgramConformance(
    'AWS Lambda (HTTP API events)',
    async (request) => {
      const event = buildLambdaEvent(
        'api-gateway-v2',
        {
          method: request.method,
          path: request.path,
          query: request.query ?? '',
          headers: request.headers ?? {},
          body: request.body ?? new Uint8Array(0),
        },
        eventTemplate('api-gateway-v2', 'x.example'),
      );
      const result = await lambda(JSON.parse(JSON.stringify(event)));
      return lambdaResultToHttp(result as Parameters<typeof lambdaResultToHttp>[0]);
    },
    options(''),
  );
  describeProgramConformance(
    'Vercel',
    (request) => invokeWebHandler(request.method === 'GET' ? vercel.GET : vercel.POST, request),
    options('/api'),
  );
  describeProgramConformance(
    'Netlify',
    (request) => invokeWebHandler((req) => netlify(req, { requestId: 'test' }), request),
    options('/api'),
  );

  const dev = await startDevServer({ platform: 'lambda', port: 0 });
  const server = await startServer(serverConfig({ port: '0', workers: '1' }, {}), () => undefined);
  before(() => server.ready);
  after(() => Promise.all([dev.close(), server.close()]));
  describeProgramConformance(
    'dev emulator, lambda',
    overHttp(() => dev.url),
    options(''),
  );
  describeProgramConformance(
    'tflite-fn serve',
    overHttp(() => server.url),
    options(''),
  );
});
