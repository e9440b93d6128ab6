/**
 * The HTTP surface every platform serves: one Hono app, `app.fetch(Request) → Response`.
 * Platform handlers only translate their events to a Request and the Response back.
 *
 *   POST /<task>     image in, the task's answer out, one route per task in TASKS (also under
 *                    /api, where platforms prefix): JSON, text, html or a picture
 *   GET  /models     the models this deployment knows, each with its task
 *   GET  /healthz    liveness
 *   /v2/...          the Open Inference Protocol (src/oip/): raw tensors in and out
 *
 * Which routes exist, who may call them and how they are labelled is the route table's
 * (routes.ts): this file supplies handlers for its entries and registers nothing else.
 */
import { type Context, Hono } from 'hono';
import { CORS_ORIGINS, checkVariables, STRICT_READINESS } from '../config/index.js';
import { TfliteFnError } from '../errors.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { repositoryHandlers } from '../model/repository-api.js';
import { repositoryFromEnv } from '../model/repository-env.js';
import { oipHandlers } from '../oip/handlers.js';
import { catalogSource, type ModelSource } from '../oip/model-source.js';
import type { TensorRunner } from '../oip/tensor-runner.js';
import { cacheDir } from '../store/paths.js';
import { taskById } from '../tasks/index.js';
import { corsFromTable, errorShapeFor, requireApiKey } from './access.js';
import { admitBodies } from './admit-bodies.js';
import type { BodyBudget } from './body-budget.js';
import { BODY_LIMITS, type BodyLimit } from './limits.js';
import { modelsHandler } from './models-route.js';
import { programRoute } from './program-route.js';
import { defaultLogError, errorResponse, notFoundResponse } from './respond.js';
import { type PlatformRouteId, ROUTES, type RouteSpec, type ServerRouteId } from './routes.js';
import { taskHandler } from './task-handler.js';
import { pinVersions, runJobHere, type TaskRunner } from './task-job.js';

export { errorResponse, notFoundResponse };

export type RouteHandler = (c: Context) => Response | Promise<Response>;

export interface AppOptions {
  readonly catalog?: ModelCatalog;
  /**
   * The models the Open Inference Protocol routes (/v2) serve, and the task routes by name
   * (default, or undefined: TFLITE_FN_MODEL_REPOSITORY's repository, else the catalog's).
   */
  readonly modelSource?: ModelSource | undefined;
  /** The platform's request-size limit (defaults to the self-hosted server's). */
  readonly bodyLimit?: BodyLimit;
  /**
   * Origins allowed to call from a browser: '*' or a list. Default: TFLITE_FN_CORS_ORIGINS
   * (comma-separated), else none (no CORS headers: same-origin and non-browser clients only).
   */
  readonly corsOrigins?: '*' | readonly string[];
  /** Where server-side details of unexpected errors go. */
  readonly logError?: (error: TfliteFnError) => void;
  /**
   * What runs a task route's job (the task, and the picture when one is asked for): this
   * process by default; the self-hosted server passes its worker pool. Everything else
   * (routes, parsing, negotiation, rendering, errors) stays one code path.
   */
  readonly runner?: TaskRunner;
  /**
   * What runs the /v2 routes' models on raw tensors: this process by default; the self-hosted
   * server passes its worker pool's (the request is still read and checked here).
   */
  readonly tensorRunner?: TensorRunner;
  /**
   * GET /v2/health/ready: strict (every model meant to serve has a READY version) or not (ready
   * whenever it can serve; src/oip/readiness.ts). Default: TFLITE_FN_STRICT_READINESS, else strict.
   */
  readonly strictReadiness?: boolean;
  /** Whether this process can run work now (the server: a worker is ready); default: always. */
  readonly canServe?: () => boolean;
  /**
   * A WasmEdge-style program (.wasm) that answers POST /classify instead of the built-in
   * classifier: the request body is its stdin, its stdout the response (text/plain), as
   * WasmEdge's serverless templates do. Default: TFLITE_FN_PROGRAM.
   */
  readonly program?: string | undefined;
  /**
   * Models the program loads by name through WASI-NN, as `wasmedge --nn-preload` takes them
   * (NAME:ENCODING:TARGET:PATH; a relative PATH is found as the program is). Default:
   * TFLITE_FN_NN_PRELOAD, entries separated by spaces.
   */
  readonly nnPreload?: readonly string[] | undefined;
  /**
   * When set, every route the table does not mark `open` needs this key (x-api-key,
   * authorization: Bearer, or dapr-api-token).
   */
  readonly apiKey?: string | undefined;
  /**
   * Bodies of model-running routes are admitted from this budget before they are read (the
   * self-hosted server's; a serverless invocation holds one request anyway).
   */
  readonly bodyBudget?: BodyBudget | undefined;
  /** Handlers for the table's server-only routes (the self-hosted server supplies them). */
  readonly serverRoutes?: Partial<Record<ServerRouteId, RouteHandler>>;
}

function corsFromEnv(): '*' | string[] {
  return CORS_ORIGINS.value();
}

function methodNotAllowed(route: RouteSpec): RouteHandler {
  const hint = route.task ? 'use POST with an image in the body' : `use ${route.method}`;
  return (c) => {
    const response = errorResponse(
      new TfliteFnError(405, 'method_not_allowed', `${c.req.method} ${c.req.path}: ${hint}`),
      undefined,
      route.errors,
    );
    // On the response itself: a header set on the context is lost when a Response is returned.
    response.headers.set('allow', route.method);
    return response;
  };
}

/**
 * Registers the table's routes that have a handler, and only those: each path with its
 * method, and a 405 naming that method for any other (so every path of the table matches a
 * route whatever the method, and access and CORS can read it).
 */
function serveRoutes(app: Hono, handlers: Partial<Record<string, RouteHandler>>): void {
  for (const route of ROUTES) {
    const handler = handlers[route.id];
    if (!handler) continue;
    for (const path of route.paths) {
      app.on(route.method, path, handler);
      app.all(path, methodNotAllowed(route));
    }
  }
}

/**
 * The middleware every route passes, in order: CORS first, so a preflight (which carries no
 * key) is answered and a 401 can be read; then the API key; then body admission.
 */
function useAccess(app: Hono, options: AppOptions, bodyLimit: BodyLimit): void {
  const origins = options.corsOrigins ?? corsFromEnv();
  if (origins === '*' || origins.length > 0) app.use('*', corsFromTable(origins));
  if (options.apiKey) app.use('*', requireApiKey(options.apiKey));
  if (options.bodyBudget) app.use('*', admitBodies(options.bodyBudget, bodyLimit));
}

/** One handler per task route of the table, each running its task's jobs through `run`. */
function taskRoutes(bodyLimit: BodyLimit, run: TaskRunner): Record<string, RouteHandler> {
  const handlers: Record<string, RouteHandler> = {};
  for (const route of ROUTES) {
    if (route.task) handlers[route.id] = taskHandler(taskById(route.task), { bodyLimit, run });
  }
  return handlers;
}

/** The Open Inference Protocol's routes and the model repository's, on one model source. */
function oipRoutes(
  options: AppOptions,
  source: ModelSource,
  bodyLimit: BodyLimit,
  logError: (error: TfliteFnError) => void,
): Partial<Record<string, RouteHandler>> {
  const protocol = oipHandlers({
    source,
    bodyLimit,
    logError,
    ...(options.tensorRunner ? { runner: options.tensorRunner } : {}),
    readiness: {
      strict: options.strictReadiness ?? STRICT_READINESS.value(),
      ...(options.canServe ? { canServe: options.canServe } : {}),
    },
  });
  const repository = repositoryHandlers(source, (handler) => async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      return errorResponse(error, logError, 'oip');
    }
  });
  return { ...protocol, ...repository };
}

export function createApp(options: AppOptions = {}): Hono {
  // A bad TFLITE_FN_* value stops a deployment as it starts (an init error in the platform's
  // log), not later as a 400 to a client who cannot fix it.
  checkVariables();
  // Likewise a cache folder that cannot be written: decided (and probed) now, so a server or a
  // function stops with the fix instead of restarting workers that would all fail the same way.
  cacheDir();
  const catalog = options.catalog ?? defaultCatalog();
  const bodyLimit = options.bodyLimit ?? BODY_LIMITS.server;
  // A deployment's model repository (TFLITE_FN_MODEL_REPOSITORY) when the caller gives no source.
  const modelSource = options.modelSource ?? repositoryFromEnv();
  const runner = options.runner ?? ((job) => runJobHere(job, catalog, modelSource));
  const run = modelSource ? pinVersions(runner, modelSource) : runner;
  const logError = options.logError ?? defaultLogError;
  const app = new Hono();
  useAccess(app, options, bodyLimit);

  // WasmEdge's serverless templates answer /classify with a program: that stays possible.
  const program = programRoute(options, bodyLimit);
  const fixedRoutes: Record<PlatformRouteId, RouteHandler> = {
    models: modelsHandler(catalog, modelSource),
    healthz: (c) => c.json({ status: 'ok' }),
  };
  serveRoutes(app, {
    ...taskRoutes(bodyLimit, run),
    ...(program ? { classify: program } : {}),
    ...fixedRoutes,
    ...oipRoutes(options, modelSource ?? catalogSource(catalog), bodyLimit, logError),
    ...options.serverRoutes,
  });

  app.notFound((c) => notFoundResponse(c.req.raw));
  app.onError((error, c) => errorResponse(error, logError, errorShapeFor(c)));
  return app;
}
