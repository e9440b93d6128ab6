/**
 * A local stand-in for the Lambda service's side of the Runtime API (the HTTP interface a
 * runtime polls, documented at docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
 *
 *   GET  /2018-06-01/runtime/invocation/next          the next event (waits until there is one)
 *   POST /2018-06-01/runtime/invocation/<id>/response the handler's result
 *   POST /2018-06-01/runtime/invocation/<id>/error    the handler's error
 *   POST /2018-06-01/runtime/init/error               init failed (the handler did not load)
 *
 * It records what Lambda bills and reports: init ends when the runtime first asks for an event
 * (everything before that, the handler module's top-level code included, is the init phase);
 * an invocation lasts from handing out the event to receiving its result. Serves loopback only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const PREFIX = '/2018-06-01/runtime';
/** Lambda refuses a response over 6 MB: so do we, so a local run fails where the cloud would. */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

export interface InvocationResult {
  readonly requestId: string;
  /** The handler's result, parsed from JSON, when it returned one. */
  readonly response?: unknown;
  /** What the runtime posted to /error: { errorType, errorMessage, ... }. */
  readonly error?: { readonly errorType?: string; readonly errorMessage?: string };
  /** From handing the event to the runtime to receiving its answer (Lambda's "Duration"). */
  readonly durationMs: number;
}

interface Pending {
  readonly requestId: string;
  readonly event: unknown;
  readonly deadlineMs: number;
  deliveredAt?: number;
  readonly settle: (result: InvocationResult) => void;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    request.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_RESPONSE_BYTES) {
        request.destroy();
        reject(new Error(`the runtime posted more than ${MAX_RESPONSE_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseJson(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

function accepted(response: ServerResponse): void {
  response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
}

export class LocalRuntimeApi {
  readonly #server: Server;
  readonly #queue: Pending[] = [];
  readonly #inFlight = new Map<string, Pending>();
  /** Runtimes waiting in GET /next for an event. */
  readonly #waiting: ServerResponse[] = [];
  readonly #initErrorListeners: ((error: unknown) => void)[] = [];
  #nextId = 1;
  /** performance.now() when the runtime first asked for an event: the end of init. */
  firstPollAt: number | undefined;
  /** What the runtime posted to /init/error, if it did. */
  initError: unknown;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<LocalRuntimeApi> {
    const server = createServer();
    const api = new LocalRuntimeApi(server);
    server.on('request', (request, response) => {
      api.#route(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API for the runtime. */
  get address(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  /** Queues an event as Lambda would; resolves with the runtime's answer. */
  invoke(event: unknown, timeoutMs = 30_000): Promise<InvocationResult> {
    return new Promise((settle) => {
      const requestId = `local-${this.#nextId++}`;
      this.#queue.push({ requestId, event, deadlineMs: Date.now() + timeoutMs, settle });
      this.#deliver();
    });
  }

  /** Resolves when the runtime reports that init failed. */
  onInitError(listener: (error: unknown) => void): void {
    this.#initErrorListeners.push(listener);
  }

  async close(): Promise<void> {
    for (const response of this.#waiting.splice(0)) response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #deliver(): void {
    while (this.#queue.length > 0 && this.#waiting.length > 0) {
      const pending = this.#queue.shift() as Pending;
      const response = this.#waiting.shift() as ServerResponse;
      pending.deliveredAt = performance.now();
      this.#inFlight.set(pending.requestId, pending);
      response.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': pending.requestId,
        'lambda-runtime-deadline-ms': String(pending.deadlineMs),
        'lambda-runtime-invoked-function-arn':
          'arn:aws:lambda:us-east-1:000000000000:function:tflite-fn-local',
        'lambda-runtime-trace-id': `Root=1-00000000-${pending.requestId.padStart(24, '0')};Sampled=0`,
      });
      response.end(JSON.stringify(pending.event));
    }
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '';
    if (request.method === 'GET' && path === `${PREFIX}/invocation/next`) {
      this.firstPollAt ??= performance.now();
      this.#waiting.push(response);
      request.on('close', () => {
        const index = this.#waiting.indexOf(response);
        if (index >= 0) this.#waiting.splice(index, 1);
      });
      this.#deliver();
      return;
    }
    const body = await readBody(request);
    if (request.method === 'POST' && path === `${PREFIX}/init/error`) {
      this.initError = parseJson(body);
      for (const listener of this.#initErrorListeners) listener(this.initError);
      accepted(response);
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    const pending = match ? this.#inFlight.get(decodeURIComponent(match[1] as string)) : undefined;
    if (request.method !== 'POST' || !match || !pending) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"errorType":"NotFound"}');
      return;
    }
    this.#inFlight.delete(pending.requestId);
    accepted(response);
    const durationMs = performance.now() - (pending.deliveredAt as number);
    const parsed = parseJson(body);
    pending.settle(
      match[2] === 'response'
        ? { requestId: pending.requestId, response: parsed, durationMs }
        : {
            requestId: pending.requestId,
            error: parsed as InvocationResult['error'] & object,
            durationMs,
          },
    );
  }
}
