/**
 * The program conformance suite on every in-process surface: the Lambda, Vercel and Netlify
 * handlers, the dev emulator and the server. The handlers build their app when first imported,
 * from TFLITE_FN_PROGRAM and TFLITE_FN_NN_PRELOAD: the caller sets those (and the working
 * folder) before calling this, once per test process.
 */
import { after, before } from 'node:test';
import { eventTemplate } from '../../handlers/dev/event-templates.js';
import { buildLambdaEvent, lambdaResultToHttp } from '../../handlers/dev/lambda-events.js';
import { overHttp } from './over-http.js';
import { describeProgramConformance, type ProgramConformanceOptions } from './program-suite.js';
import { invokeWebHandler } from './web-handler.js';

export async function describeProgramOnEveryHandler(
  options: Omit<ProgramConformanceOptions, 'prefix'>,
  /** Added to each surface's name, to tell two programs' runs apart. */
  what?: string,
): Promise<void> {
  const at = (prefix: string) => ({ ...options, prefix });
  const named = (surface: string) => (what ? `${surface}, ${what}` : surface);
  const { handler: lambda } = await import('../../handlers/aws-lambda/index.js');
  const vercel = await import('../../handlers/vercel/index.js');
  const { default: netlify } = await import('../../handlers/netlify/index.js');
  const { startDevServer } = await import('../../handlers/dev/server.js');
  const { serverConfig } = await import('../../handlers/server/config.js');
  const { startServer } = await import('../../handlers/server/server.js');

  describeProgramConformance(
    named('AWS Lambda (HTTP API events)'),
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
    at(''),
  );
  describeProgramConformance(
    named('Vercel'),
    (request) => invokeWebHandler(request.method === 'GET' ? vercel.GET : vercel.POST, request),
    at('/api'),
  );
  describeProgramConformance(
    named('Netlify'),
    (request) => invokeWebHandler((req) => netlify(req, { requestId: 'test' }), request),
    at('/api'),
  );

  const dev = await startDevServer({ platform: 'lambda', port: 0 });
  const server = await startServer(serverConfig({ port: '0', workers: '1' }, {}), () => undefined);
  before(() => server.ready);
  after(() => Promise.all([dev.close(), server.close()]));
  describeProgramConformance(
    named('dev emulator, lambda'),
    overHttp(() => dev.url),
    at(''),
  );
  describeProgramConformance(
    named('tflite-fn serve'),
    overHttp(() => server.url),
    at(''),
  );
}
