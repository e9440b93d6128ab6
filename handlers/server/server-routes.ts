/**
 * The route table's server-only routes (src/http/routes.ts): what a self-hosted server answers
 * besides the HTTP app every platform serves. GET / is the demo page.
 */
import { readFile } from 'node:fs/promises';
import type { IntervalHistogram } from 'node:perf_hooks';
import { TfliteFnError } from '../../src/errors.js';
import { errorResponse, type RouteHandler } from '../../src/http/app.js';
import type { BodyBudget } from '../../src/http/body-budget.js';
import type { BodyLimit } from '../../src/http/limits.js';
import type { ServerRouteId } from '../../src/http/routes.js';
import { sampleOnFirstUse } from '../../src/store/first-use.js';
import { SAMPLE_PHOTOS } from '../../src/store/samples.js';
import { daprConfig, daprHandlers } from './dapr.js';
import { DEMO_PAGE } from './demo-page.js';
import type { Metrics } from './metrics.js';
import type { WorkerPool } from './pool.js';
import type { Lifecycle } from './request-log.js';
import type { Logger } from './server.js';

export interface ServerRouteDeps {
  readonly pool: WorkerPool;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  readonly bodyBudget: BodyBudget;
  readonly bodyLimit: BodyLimit;
  /** The main event loop's delay, measured since it is enabled (reset at each scrape). */
  readonly loopDelay: IntervalHistogram;
  readonly log: Logger;
}

export function serverRoutes(deps: ServerRouteDeps): Record<ServerRouteId, RouteHandler> {
  const { pool, lifecycle, log, bodyLimit } = deps;
  return {
    demo: (c) => c.html(DEMO_PAGE),
    // The pool's readiness, not start-up's: a pool whose workers all died is not ready.
    readyz: (c) => {
      const status = lifecycle.draining ? 'draining' : pool.readiness;
      return c.json({ status, workers: pool.readyWorkers }, status === 'ready' ? 200 : 503);
    },
    metrics: metricsHandler(deps),
    ...daprHandlers({ config: daprConfig(), run: pool.run, log, bodyLimit }),
    samples: (c) => c.json(SAMPLE_PHOTOS.map((photo) => photo.name)),
    sample: sampleHandler,
  };
}

/** GET /metrics: the request counters and histograms, with the pool's and the loop's gauges. */
function metricsHandler({ metrics, pool, bodyBudget, loopDelay }: ServerRouteDeps): RouteHandler {
  return (c) =>
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
    );
}

/** GET /samples/<name>: one of the demo page's sample photos. */
const sampleHandler: RouteHandler = async (c) => {
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
};
