/**
 * `tflite-fn dev --platform lambda|vercel|netlify`: a local HTTP server that hands each request
 * to the real platform handler in the form that platform would: an API Gateway / Function URL /
 * ALB event for Lambda (base64 rules included), a Web Request for Vercel and Netlify.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventTemplate } from './event-templates.js';
import {
  buildLambdaEvent,
  type HttpRequestParts,
  type HttpResponseParts,
  type LambdaEventKind,
  lambdaResultToHttp,
} from './lambda-events.js';

export type Platform = 'lambda' | 'vercel' | 'netlify';
export const PLATFORMS: readonly Platform[] = ['lambda', 'vercel', 'netlify'];

export interface DevServerOptions {
  readonly platform: Platform;
  readonly port?: number;
  readonly host?: string;
  /** Which Lambda front door to emulate (default: HTTP API, payload 2.0). */
  readonly event?: LambdaEventKind;
}

export interface DevServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Bodies larger than this are not even buffered: every platform refuses them anyway. */
const READ_CAP = 64 * 1024 * 1024;

type Dispatch = (request: HttpRequestParts, host: string) => Promise<HttpResponseParts>;

async function webDispatch(handle: (request: Request) => Response | Promise<Response>): Promise<Dispatch> {
  return async (request, host) => {
    const init: RequestInit = { method: request.method, headers: request.headers };
    if (request.body.length > 0) init.body = request.body;
    const url = `http://${host}${request.path}${request.query ? `?${request.query}` : ''}`;
    const response = await handle(new Request(url, init));
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: new Uint8Array(await response.arrayBuffer()),
    };
  };
}

async function dispatcher(options: DevServerOptions): Promise<Dispatch> {
  if (options.platform === 'lambda') {
    const { handler } = await import('../aws-lambda/index.js');
    const kind = options.event ?? 'api-gateway-v2';
    return async (request, host) => {
      const event = buildLambdaEvent(kind, request, eventTemplate(kind, host));
      // Serialise as AWS does; the handler sees plain JSON, not our objects.
      const result = await handler(JSON.parse(JSON.stringify(event)));
      return lambdaResultToHttp(result as Parameters<typeof lambdaResultToHttp>[0]);
    };
  }
  if (options.platform === 'vercel') {
    const vercel = await import('../vercel/index.js');
    return webDispatch((request) => (request.method === 'GET' ? vercel.GET(request) : vercel.POST(request)));
  }
  const netlify = await import('../netlify/index.js');
  return webDispatch((request) => netlify.default(request, { site: { name: 'local' } }));
}

async function readBody(request: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > READ_CAP) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const dispatch = await dispatcher(options);
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (!body) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(
          JSON.stringify({
            error: { code: 'payload_too_large', message: `the request is over ${READ_CAP} bytes` },
          }),
        );
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      }
      const host = headers.host ?? 'localhost';
      const response = await dispatch(
        { method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), headers, body },
        host,
      );
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    } catch (error) {
      // The handlers answer their own errors; reaching here means the emulator itself failed.
      console.error('tflite-fn dev:', error);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'internal_error', message: 'the dev emulator failed; see its console' },
        }),
      );
    }
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
