/**
 * `tflite-fn dev --platform lambda|vercel|netlify`: a local HTTP server that hands each request
 * to the real platform handler in the form that platform would: an API Gateway / Function URL /
 * ALB event for Lambda (base64 rules included), a Web Request for Vercel and Netlify.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

/** A request the emulator refuses at its door, as the platforms' front ends do. */
class DoorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Host header becomes part of a URL (the Web Request's, the Lambda event's domain), so it
 * must be a host and nothing else: `a b`, `x/y` or `user@x` would make an invalid or a
 * different URL. The platforms' front doors refuse such requests with a 400; so do we.
 */
const HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function validHost(header: string | undefined): string {
  const host = header ?? 'localhost';
  if (!HOST.test(host) || !URL.canParse(`http://${host}/`)) {
    throw new DoorError(400, 'bad_host', 'the Host header is not a valid host[:port]');
  }
  return host;
}

/**
 * Path and query as the client sent them. The request target is split, not resolved against
 * a base URL: `new URL('//classify', base)` would read `classify` as a host name.
 */
function requestTarget(target: string): { path: string; query: string } {
  if (target.startsWith('http://') || target.startsWith('https://')) {
    const url = URL.canParse(target) ? new URL(target) : undefined;
    if (url) return { path: url.pathname, query: url.search.slice(1) };
  } else if (target.startsWith('/')) {
    const at = target.indexOf('?');
    return at === -1
      ? { path: target, query: '' }
      : { path: target.slice(0, at), query: target.slice(at + 1) };
  }
  throw new DoorError(400, 'bad_request_target', 'the request target is not a path or an absolute URL');
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ error: { code, message } }));
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
      const host = validHost(req.headers.host);
      const { path, query } = requestTarget(req.url ?? '/');
      const body = await readBody(req);
      if (!body) return answer(res, 413, 'payload_too_large', `the request is over ${READ_CAP} bytes`);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      }
      const response = await dispatch({ method: req.method ?? 'GET', path, query, headers, body }, host);
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    } catch (error) {
      if (error instanceof DoorError) return answer(res, error.status, error.code, error.message);
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
