/**
 * `tflite-fn serve`: the self-hosted server. The same HTTP app as every serverless handler
 * (src/http), with classification handed to a pool of worker processes, plus what a server
 * needs: readiness, metrics, request ids and JSON logs, an optional API key, a bounded queue,
 * timeouts, keep-alive and a graceful shutdown. GET / is the demo page.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { BATCH_ENV } from '../../src/batch/settings.js';
import { TfliteFnError, UnavailableError } from '../../src/errors.js';
import { routeLabel } from '../../src/http/access.js';
import { createApp, errorResponse, notFoundResponse, type RouteHandler } from '../../src/http/app.js';
import { BodyBudget, type BodyBudgetLimits } from '../../src/http/body-budget.js';
import { bodyWasRead } from '../../src/http/read-request.js';
import type { ServerRouteId } from '../../src/http/routes.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { repositorySource } from '../../src/model/repository.js';
import { sampleOnFirstUse } from '../../src/store/first-use.js';
import { SAMPLE_PHOTOS } from '../../src/store/samples.js';
import { describeConfig, type ServerConfig } from './config.js';
import { daprConfig, daprHandlers } from './dapr.js';
import { DEMO_PAGE } from './demo-page.js';
import { jobsPerWorker } from './jobs-per-worker.js';
import { Metrics } from './metrics.js';
import { WorkerPool } from './pool.js';
import { poolTensorRunner } from './tensor-jobs.js';

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly pool: WorkerPool;
  /** The main process's catalog: it lists models and never loads one (the workers do). */
  readonly catalog: ModelCatalog;
  /** The Hono app it serves (its routes are what the route-table tests compare). */
  readonly app: Hono;
  /** Resolves once every worker has loaded and warmed its models. */
  readonly ready: Promise<void>;
  /** Graceful stop: refuse new requests, finish in-flight ones, stop the workers. */
  close(): Promise<void>;
}

export type Logger = (event: Record<string, unknown>) => void;

export const jsonLogger: Logger = (event) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...event })}\n`);
};

const MB = 1024 * 1024;
/**
 * Bytes of request bodies the main process holds at once: three maximum-size uploads. Each
 * admitted body is held until it is answered, and copied once more on its way to a worker.
 */
const MAIN_PROCESS_BODY_BYTES = 96 * MB;
/** Logged and counted when the client left before its answer (nginx's number for it). */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * What the main process admits before reading bodies: no more bodies than the pool can hold
 * (running plus queued: one more would be refused after reading it), no more bytes than
 * MAIN_PROCESS_BODY_BYTES (at least one maximum-size body); bodies over a sixteenth of that
 * count as large and share two thirds, so big uploads cannot shut out ordinary photos.
 */
export function bodyBudgetLimits(config: ServerConfig, perWorker: number): BodyBudgetLimits {
  const maxBodies = config.workers * perWorker + config.queueSize;
  const maxBytes = Math.max(
    config.maxBodyBytes,
    Math.min(maxBodies * config.maxBodyBytes, MAIN_PROCESS_BODY_BYTES),
  );
  return {
    maxBodies,
    maxBytes,
    largeBody: Math.floor(maxBytes / 16),
    maxLargeBytes: Math.max(config.maxBodyBytes, Math.floor((maxBytes * 2) / 3)),
    deadlineMs: config.timeoutMs,
  };
}

/** A request that came with a body we have not read to its end. */
function unreadBody(request: Request): boolean {
  const declared = request.headers.get('content-length');
  const hasBody = (declared !== null && declared !== '0') || request.headers.has('transfer-encoding');
  return hasBody && !bodyWasRead(request);
}

export async function startServer(config: ServerConfig, log: Logger = jsonLogger): Promise<RunningServer> {
  const started = performance.now();
  // Refused here, before anything listens, when the folder is not there.
  const repositoryDir = config.modelRepository === undefined ? undefined : resolve(config.modelRepository);
  const repository = repositoryDir === undefined ? undefined : repositorySource(repositoryDir, { log });
  const env = {
    TFLITE_FN_PRELOAD: config.preload,
    // Blank when not given: each model's descriptor decides (batch/settings.ts).
    [BATCH_ENV.maxBatchSize]: config.batchMax === undefined ? '' : String(config.batchMax),
    [BATCH_ENV.maxQueueDelayMs]: config.batchDelayMs === undefined ? '' : String(config.batchDelayMs),
    // The workers follow the server's setting, not whatever their environment says.
    TFLITE_FN_MODEL_REPOSITORY: repositoryDir ?? '',
  };
  const catalog = new ModelCatalog({ warmUp: false }); // for /models; the workers hold the loaded ones
  const perWorker = jobsPerWorker(catalog, repository, { ...process.env, ...env });
  const pool = new WorkerPool({
    workers: config.workers,
    queueSize: config.queueSize,
    perWorker,
    jobTimeoutMs: config.timeoutMs,
    env,
    log,
  });
  const metrics = new Metrics();
  let draining = false;
  let inFlight = 0;
  /** Requests whose headers arrived before SIGTERM: they are in flight and get answered. */
  const accepted = new WeakSet<IncomingMessage>();

  const app = new Hono();
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 128) || randomUUID();
    const begun = performance.now();
    inFlight++;
    try {
      if (draining) {
        c.res = errorResponse(
          new UnavailableError('shutting_down', 'the server is shutting down; retry on another instance', 5),
        );
      } else {
        await next();
      }
    } finally {
      inFlight--;
      c.res.headers.set('x-request-id', requestId);
      // Draining, or answered without reading a body that is there: do not stay to receive it.
      if (draining || unreadBody(c.req.raw)) c.res.headers.set('connection', 'close');
      const path = new URL(c.req.url).pathname;
      const ms = performance.now() - begun;
      const status = c.req.raw.signal.aborted ? CLIENT_CLOSED_REQUEST : c.res.status;
      metrics.observe(routeLabel(c), c.req.method, status, ms / 1000);
      log({ msg: 'request', requestId, method: c.req.method, path, status, ms: Math.round(ms * 10) / 10 });
    }
  });
  const bodyLimit = {
    maxBytes: config.maxBodyBytes,
    description: `this server accepts at most ${config.maxBodyBytes} bytes per request (--max-body)`,
  };
  const bodyBudget = new BodyBudget(bodyBudgetLimits(config, perWorker()));
  // Work on the main loop delays every request, probes included: measured, so it can be seen.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const serverRoutes: Record<ServerRouteId, RouteHandler> = {
    demo: (c) => c.html(DEMO_PAGE),
    // The pool's readiness, not start-up's: a pool whose workers all died is not ready.
    readyz: (c) => {
      const status = draining ? 'draining' : pool.readiness;
      return c.json({ status, workers: pool.readyWorkers }, status === 'ready' ? 200 : 503);
    },
    metrics: (c) =>
      c.text(
        metrics.render({
          queueDepth: () => pool.queueDepth,
          inFlight: () => pool.inFlight,
          readyWorkers: () => pool.readyWorkers,
          bodiesInFlight: () => bodyBudget.bodies,
          bodyBytesInFlight: () => bodyBudget.bytes,
          eventLoopDelayMax: () => {
            const seconds = loopDelay.max / 1e9;
            loopDelay.reset();
            return seconds;
          },
          workerRestarts: () => pool.restarts,
          batching: () => pool.batching,
          modelLoadSeconds: () => new Map([...pool.modelLoadMs].map(([model, ms]) => [model, ms / 1000])),
        }),
        200,
        { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      ),
    ...daprHandlers({
      config: daprConfig(),
      run: pool.run,
      log,
      bodyLimit,
    }),
    samples: (c) => c.json(SAMPLE_PHOTOS.map((photo) => photo.name)),
    sample: async (c) => {
      const photo = SAMPLE_PHOTOS.find((p) => p.name === c.req.param('name'));
      if (!photo) return errorResponse(new TfliteFnError(404, 'not_found', 'no such sample photo'));
      // An installed package may not have run set-up: fetched (verified) on first request.
      const path = await sampleOnFirstUse(photo);
      const bytes = await readFile(path).catch(() => undefined);
      if (!bytes)
        return errorResponse(
          new TfliteFnError(404, 'not_found', 'sample photo not available here: run tflite-fn setup'),
        );
      return c.body(bytes, 200, { 'content-type': 'image/jpeg', 'cache-control': 'max-age=3600' });
    },
  };
  app.route(
    '/',
    createApp({
      catalog,
      ...(repository ? { modelSource: repository } : {}),
      runner: pool.run,
      tensorRunner: poolTensorRunner(pool),
      strictReadiness: config.strictReadiness,
      // Models ready or not, a server with no worker able to run them is not ready.
      canServe: () => !draining && pool.readiness === 'ready',
      bodyLimit,
      corsOrigins: config.corsOrigins,
      apiKey: config.apiKey,
      bodyBudget,
      serverRoutes,
      logError: (error) =>
        log({ level: 'error', msg: error.message, code: error.code, cause: String(error.cause ?? '') }),
    }),
  );

  app.notFound((c) => notFoundResponse(c.req.raw));
  app.onError((error) => errorResponse(error));

  const listener = getRequestListener(app.fetch);
  const server = createServer((req, res) => {
    if (!draining) accepted.add(req);
    void listener(req, res);
  });
  // Longer than the usual 60 s idle timeout of load balancers, so they close first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = config.timeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log({ msg: 'listening', url, config: describeConfig(config) });

  const ready = Promise.all([pool.start(), repository?.settled()]).then(() => {
    log({
      msg: 'ready',
      readyMs: Math.round(performance.now() - started),
      workers: pool.readyWorkers,
      modelLoadMs: Object.fromEntries(pool.modelLoadMs),
      engines: Object.fromEntries(pool.engines),
    });
  });
  ready.catch((error: unknown) =>
    log({ level: 'error', msg: 'workers failed to start', error: String(error) }),
  );

  const close = async () => {
    if (draining) return;
    draining = true;
    log({ msg: 'draining', inFlight });
    // Stop accepting connections and close idle keep-alive ones; busy ones finish their
    // request (answered with `connection: close`) and then close, which ends server.close().
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timedOut = await Promise.race([
      stopped.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), config.drainMs).unref()),
    ]);
    if (timedOut) {
      log({ level: 'warn', msg: 'drain timed out; closing connections', inFlight });
      server.closeAllConnections();
      await stopped;
    }
    await pool.stop();
    repository?.close();
    loopDelay.disable();
    log({ msg: 'stopped' });
  };
  return { url, server, pool, catalog, app, ready, close };
}
