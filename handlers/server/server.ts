/**
 * `tflite-fn serve`: the self-hosted server. The same HTTP app as every serverless handler
 * (src/http), with classification handed to a pool of worker processes, plus what a server
 * needs: readiness, metrics, request ids and JSON logs, an optional API key, a bounded queue,
 * timeouts, keep-alive and a graceful shutdown. GET / is the demo page.
 */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Hono } from 'hono';
import { BATCH_DELAY_MS, BATCH_MAX, MODEL_REPOSITORY, PRELOAD } from '../../src/config/index.js';
import { errorShapeFor } from '../../src/http/access.js';
import { createApp, errorResponse, notFoundResponse } from '../../src/http/app.js';
import { BodyBudget, type BodyBudgetLimits } from '../../src/http/body-budget.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { type ModelRepository, repositorySource } from '../../src/model/repository.js';
import { describeConfig, type ServerConfig } from './config.js';
import { jobsPerWorker } from './jobs-per-worker.js';
import { drainConnections, listen } from './listener.js';
import { Metrics } from './metrics.js';
import { WorkerPool } from './pool.js';
import { type Lifecycle, observeRequests } from './request-log.js';
import { type ServerRouteDeps, serverRoutes } from './server-routes.js';
import { poolTensorRunner } from './tensor-jobs.js';
import { loadInWorkers, unloadInWorkers } from './worker-loads.js';

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
 * admitted body is held until it is answered; on its way to a worker it is copied a piece
 * (1 MiB) at a time (job-pieces.ts), so the copies add little to it.
 */
const MAIN_PROCESS_BODY_BYTES = 96 * MB;

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

/** The pool and what it runs from: the main process lists models; the workers load them. */
interface Workers {
  readonly pool: WorkerPool;
  /** The main process's catalog: it lists models and never loads one (the workers do). */
  readonly catalog: ModelCatalog;
  readonly repository: ModelRepository | undefined;
  /** Jobs one worker runs at once (its models' batch sizes decide). */
  readonly perWorker: () => number;
  /** Starts the workers: pool.start(), and the repository's loads may go to them from now on. */
  readonly start: () => Promise<void>;
}

/** The worker pool the configuration asks for (not started yet). */
function createWorkers(config: ServerConfig, log: Logger): Workers {
  // Refused here, before anything listens, when the folder is not there.
  const repositoryDir = config.modelRepository === undefined ? undefined : resolve(config.modelRepository);
  let started!: () => void;
  const poolStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  // The main process checks each version; a worker loads it (worker-loads.ts). Bound late: the
  // pool's jobs per worker depend on the repository's configs.
  const loadElsewhere = loadInWorkers(() => pool, poolStarted, config.timeoutMs);
  const unloadElsewhere = unloadInWorkers(() => pool, log);
  const repository =
    repositoryDir === undefined
      ? undefined
      : repositorySource(repositoryDir, { log, loadElsewhere, unloadElsewhere });
  const env = {
    [PRELOAD.name]: config.preload,
    // Blank when not given: each model's descriptor decides (batch/settings.ts).
    [BATCH_MAX.name]: config.batchMax === undefined ? '' : String(config.batchMax),
    [BATCH_DELAY_MS.name]: config.batchDelayMs === undefined ? '' : String(config.batchDelayMs),
    // The workers follow the server's setting, not whatever their environment says.
    [MODEL_REPOSITORY.name]: repositoryDir ?? '',
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
  const start = () => {
    const ready = pool.start();
    started();
    return ready;
  };
  return { pool, catalog, repository, perWorker, start };
}

/** The app the server serves: its own middleware and routes around the shared HTTP app. */
function serverApp(
  config: ServerConfig,
  workers: Workers,
  lifecycle: Lifecycle,
  routes: Omit<ServerRouteDeps, 'pool' | 'lifecycle'>,
): Hono {
  const { pool, catalog, repository } = workers;
  const { log, metrics, bodyLimit, bodyBudget } = routes;
  const app = new Hono();
  app.use('*', observeRequests(lifecycle, metrics, log));
  app.route(
    '/',
    createApp({
      catalog,
      ...(repository ? { modelSource: repository } : {}),
      runner: pool.run,
      tensorRunner: poolTensorRunner(pool),
      strictReadiness: config.strictReadiness,
      // Models ready or not, a server with no worker able to run them is not ready.
      canServe: () => !lifecycle.draining && pool.readiness === 'ready',
      bodyLimit,
      corsOrigins: config.corsOrigins,
      apiKey: config.apiKey,
      bodyBudget,
      serverRoutes: serverRoutes({ ...routes, pool, lifecycle }),
      logError: (error) =>
        log({ level: 'error', msg: error.message, code: error.code, cause: String(error.cause ?? '') }),
    }),
  );
  app.notFound((c) => notFoundResponse(c.req.raw));
  app.onError((error, c) => errorResponse(error, undefined, errorShapeFor(c)));
  return app;
}

/** Resolves once every worker has loaded its models and the repository has settled. */
function whenReady(workers: Workers, started: number, log: Logger): Promise<void> {
  const { pool, repository } = workers;
  const ready = Promise.all([workers.start(), repository?.settled()]).then(() => {
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
  return ready;
}

export async function startServer(config: ServerConfig, log: Logger = jsonLogger): Promise<RunningServer> {
  const started = performance.now();
  const workers = createWorkers(config, log);
  const { pool, catalog, repository } = workers;
  const lifecycle: Lifecycle = { draining: false, inFlight: 0 };
  const bodyLimit = {
    maxBytes: config.maxBodyBytes,
    description: `this server accepts at most ${config.maxBodyBytes} bytes per request (--max-body)`,
  };
  // Work on the main loop delays every request, probes included: measured, so it can be seen.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const app = serverApp(config, workers, lifecycle, {
    metrics: new Metrics(),
    bodyBudget: new BodyBudget(bodyBudgetLimits(config, workers.perWorker())),
    bodyLimit,
    loopDelay,
    log,
  });
  const { server, url } = await listen(app, config);
  log({ msg: 'listening', url, config: describeConfig(config) });
  const ready = whenReady(workers, started, log);

  const close = async () => {
    if (lifecycle.draining) return;
    lifecycle.draining = true;
    log({ msg: 'draining', inFlight: lifecycle.inFlight });
    await drainConnections(server, config.drainMs, lifecycle, log);
    await pool.stop();
    repository?.close();
    loopDelay.disable();
    log({ msg: 'stopped' });
  };
  return { url, server, pool, catalog, app, ready, close };
}
