/**
 * Every in-process HTTP surface a deployment setting must hold on: the Lambda, Vercel and
 * Netlify handlers, the dev emulator and the server. The handlers build their app when first
 * imported, from the environment: the caller sets it (and the working folder) before calling
 * this, once per test process. The two servers start before the first test and stop after the
 * last.
 */
import { after, before } from 'node:test';
import { eventTemplate } from '../../handlers/dev/event-templates.js';
import { buildLambdaEvent, lambdaResultToHttp } from '../../handlers/dev/lambda-events.js';
import { MODEL_REPOSITORY } from '../../src/config/index.js';
import { overHttp } from './over-http.js';
import type { Invoke } from './suite.js';
import { invokeWebHandler } from './web-handler.js';

export interface HandlerSurface {
  readonly name: string;
  readonly invoke: Invoke;
  /** '' where the platform routes /classify, '/api' where it prefixes. */
  readonly prefix: string;
}

export async function everyHandler(): Promise<HandlerSurface[]> {
  const { handler: lambda } = await import('../../handlers/aws-lambda/index.js');
  const vercel = await import('../../handlers/vercel/index.js');
  const { default: netlify } = await import('../../handlers/netlify/index.js');
  const { startDevServer } = await import('../../handlers/dev/server.js');
  const { serverConfig } = await import('../../handlers/server/config.js');
  const { startServer } = await import('../../handlers/server/server.js');

  const dev = await startDevServer({ platform: 'lambda', port: 0 });
  // The server reads its settings from the environment too; of the deployment settings, only
  // the model repository is a server setting (the program ones reach its workers' apps).
  const repository = MODEL_REPOSITORY.text();
  const server = await startServer(
    serverConfig({ port: '0', workers: '1' }, repository ? { [MODEL_REPOSITORY.name]: repository } : {}),
    () => undefined,
  );
  before(() => server.ready);
  after(() => Promise.all([dev.close(), server.close()]));
  return [
    {
      name: 'AWS Lambda (HTTP API events)',
      prefix: '',
      invoke: async (request) => {
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
    },
    {
      name: 'Vercel',
      prefix: '/api',
      invoke: (request) => invokeWebHandler(request.method === 'GET' ? vercel.GET : vercel.POST, request),
    },
    {
      name: 'Netlify',
      prefix: '/api',
      invoke: (request) => invokeWebHandler((req) => netlify(req, { requestId: 'test' }), request),
    },
    { name: 'dev emulator, lambda', prefix: '', invoke: overHttp(() => dev.url) },
    { name: 'tflite-fn serve', prefix: '', invoke: overHttp(() => server.url) },
  ];
}
