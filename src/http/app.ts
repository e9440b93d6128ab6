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
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { type Context, Hono } from 'hono';
import { BadRequestError, TfliteFnError } from '../errors.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { modelFileLimit } from '../model/model-file.js';
import { ModelRepository } from '../model/repository.js';
import { repositoryHandlers } from '../model/repository-api.js';
import { repositoryFromEnv } from '../model/repository-env.js';
import { oipHandlers } from '../oip/handlers.js';
import { catalogSource, type ModelSource } from '../oip/model-source.js';
import { parseStrictReadiness, STRICT_READINESS_ENV } from '../oip/readiness.js';
import type { TensorRunner } from '../oip/tensor-runner.js';
import { packageRoot } from '../store/paths.js';
import { TASKS, taskById } from '../tasks/index.js';
import { parsePreload } from '../wasm/builtin-preload.js';
import { type NnPreload, resolvePreloads } from '../wasm/nn-preload.js';
import { corsFromTable, requireApiKey } from './access.js';
import { admitBodies } from './admit-bodies.js';
import type { BodyBudget } from './body-budget.js';
import { BODY_LIMITS, type BodyLimit } from './limits.js';
import { offersOf } from './negotiate.js';
import { readBodyCapped } from './read-request.js';
import { defaultLogError, errorResponse, notFoundResponse } from './respond.js';
import { type PlatformRouteId, ROUTES, type RouteSpec, routeOfTask, type ServerRouteId } from './routes.js';
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
  const value = process.env.TFLITE_FN_CORS_ORIGINS?.trim() ?? '';
  if (value === '*') return '*';
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

/**
 * A relative program path is looked up from the working folder, then from the package's own
 * folder: on Lambda, Vercel and Netlify the deployed files sit under the task root, which is
 * not always the working folder.
 */
function programPath(configured: string | undefined): string | undefined {
  if (!configured || isAbsolute(configured)) return configured || undefined;
  const fromHere = resolve(configured);
  if (existsSync(fromHere)) return fromHere;
  try {
    return join(packageRoot(), configured);
  } catch {
    return fromHere; // not inside the package: the read fails later with a clear message
  }
}

/**
 * The deployment's preloaded models, checked at start-up: a wrong entry, or a file that is
 * missing or too large, fails the deployment loudly instead of every request. The error is
 * the operator's, told as one line: its stack is trimmed to that line, since the platforms
 * (Lambda's init error, Vercel's and Netlify's function logs) print an error's stack, and
 * frames of our code would only bury which variable to fix.
 */
function deploymentPreloads(specs: readonly string[], fromEnv: boolean): NnPreload[] {
  try {
    const preloads = specs.map((spec) => parsePreload(spec, (file) => programPath(file) ?? file));
    resolvePreloads(preloads, modelFileLimit().maxBytes);
    return preloads;
  } catch (cause) {
    if (!(cause instanceof TfliteFnError)) throw cause;
    const source = fromEnv ? 'TFLITE_FN_NN_PRELOAD' : 'nnPreload';
    const error = new BadRequestError(cause.code, `${source}: ${cause.message}`, { cause });
    error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
}

/** A program (.wasm) that answers POST /classify: the body is its stdin, its stdout the answer. */
function programHandler(
  program: string,
  bodyLimit: BodyLimit,
  nnPreload: readonly NnPreload[],
): RouteHandler {
  let programBytes: Promise<Uint8Array> | undefined;
  return async (c) => {
    programBytes ??= readFile(program).catch((cause: unknown) => {
      programBytes = undefined;
      // The path stays in the cause, for the logs: a client is told what, not where.
      throw new TfliteFnError(
        500,
        'program_missing',
        'the configured program (TFLITE_FN_PROGRAM) cannot be read',
        {
          cause,
          expose: true,
        },
      );
    });
    const stdin = await readBodyCapped(c.req.raw, bodyLimit);
    // The program would only fail on nothing; say so as the client's mistake it is.
    if (stdin.length === 0) throw new BadRequestError('empty_image', 'no input was sent: the body is empty');
    const { runWasm } = await import('../wasm/sandbox.js');
    const result = await runWasm(await programBytes, { args: [basename(program)], stdin, nnPreload }).catch(
      (error: unknown) => {
        // The deployment's preloads, checked on each run: a file gone since start-up is the
        // deployment's fault, not the client's. Its path stays in the cause, for the logs.
        if (error instanceof BadRequestError && error.code === 'bad_option')
          throw new TfliteFnError(
            500,
            'program_missing',
            'a model the program loads by name (TFLITE_FN_NN_PRELOAD) cannot be read, or is over the size limit, since start-up',
            { cause: error, expose: true },
          );
        throw error;
      },
    );
    if (result.exitCode !== 0) {
      const detail = new TextDecoder().decode(result.stderr).trim().split('\n').slice(-3).join(' ');
      const code = result.timedOut ? 'program_timeout' : 'program_failed';
      return errorResponse(
        new TfliteFnError(
          result.timedOut ? 504 : 500,
          code,
          `the program exited with ${result.exitCode}: ${detail}`,
          { expose: true },
        ),
        () => undefined,
      );
    }
    return new Response(result.stdout as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  };
}

/**
 * GET /models: every model with its task, the default model, and every task (its route, its
 * default model here, the answer's forms and its pictures): what a client or the demo page
 * needs to offer the tasks. With a model repository, its models too (`repository`), with
 * their versions' states; a task route runs them by name.
 */
function modelsHandler(catalog: ModelCatalog, source: ModelSource | undefined): RouteHandler {
  return async (c) =>
    c.json({
      ...(source instanceof ModelRepository ? { repository: await source.models() } : {}),
      default: catalog.defaultModel,
      models: catalog.entries().map((entry) =>
        entry.descriptor
          ? {
              id: entry.id,
              title: entry.descriptor.title ?? entry.id,
              task: entry.descriptor.task,
              input: { width: entry.descriptor.input.width, height: entry.descriptor.input.height },
              resize: entry.descriptor.input.resize,
              labels: taskById(entry.descriptor.task).labelsOf?.(entry.descriptor)?.file,
            }
          : { id: entry.id, error: 'invalid descriptor' },
      ),
      tasks: TASKS.map((task) => ({
        id: task.id,
        summary: task.summary,
        route: routeOfTask(task.id),
        model: catalog.defaultModelFor(task),
        formats: offersOf(task).map((offer) => offer.format),
        pictures: Object.keys(task.pictures ?? {}),
      })),
    });
}

function methodNotAllowed(route: RouteSpec): RouteHandler {
  const hint = route.method === 'POST' ? 'use POST with an image in the body' : `use ${route.method}`;
  return (c) => {
    c.header('allow', route.method);
    return errorResponse(new TfliteFnError(405, 'method_not_allowed', hint), undefined, route.errors);
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

export function createApp(options: AppOptions = {}): Hono {
  const catalog = options.catalog ?? defaultCatalog();
  const bodyLimit = options.bodyLimit ?? BODY_LIMITS.server;
  // A deployment's model repository (TFLITE_FN_MODEL_REPOSITORY) when the caller gives no source.
  const modelSource = options.modelSource ?? repositoryFromEnv();
  const runner = options.runner ?? ((job) => runJobHere(job, catalog, modelSource));
  const run = modelSource ? pinVersions(runner, modelSource) : runner;
  const origins = options.corsOrigins ?? corsFromEnv();
  const logError = options.logError ?? defaultLogError;
  const app = new Hono();

  // CORS first, so a preflight (which carries no key) is answered and a 401 can be read.
  if (origins === '*' || origins.length > 0) app.use('*', corsFromTable(origins));
  if (options.apiKey) app.use('*', requireApiKey(options.apiKey));
  if (options.bodyBudget) app.use('*', admitBodies(options.bodyBudget, bodyLimit));

  const program = programPath(options.program ?? process.env.TFLITE_FN_PROGRAM);
  const taskRoutes: Record<string, RouteHandler> = {};
  for (const route of ROUTES) {
    if (route.task) taskRoutes[route.id] = taskHandler(taskById(route.task), { bodyLimit, run });
  }
  // WasmEdge's serverless templates answer /classify with a program: that stays possible.
  if (program) {
    const specs = options.nnPreload ?? (process.env.TFLITE_FN_NN_PRELOAD ?? '').split(/\s+/).filter(Boolean);
    taskRoutes.classify = programHandler(program, bodyLimit, deploymentPreloads(specs, !options.nnPreload));
  }
  const fixedRoutes: Record<PlatformRouteId, RouteHandler> = {
    models: modelsHandler(catalog, modelSource),
    healthz: (c) => c.json({ status: 'ok' }),
  };
  const source = modelSource ?? catalogSource(catalog);
  const oipRoutes = oipHandlers({
    source,
    bodyLimit,
    logError,
    ...(options.tensorRunner ? { runner: options.tensorRunner } : {}),
    readiness: {
      strict: options.strictReadiness ?? parseStrictReadiness(process.env[STRICT_READINESS_ENV]),
      ...(options.canServe ? { canServe: options.canServe } : {}),
    },
  });
  const repositoryRoutes = repositoryHandlers(source, (handler) => async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      return errorResponse(error, logError, 'oip');
    }
  });
  serveRoutes(app, {
    ...taskRoutes,
    ...fixedRoutes,
    ...oipRoutes,
    ...repositoryRoutes,
    ...options.serverRoutes,
  });

  app.notFound((c) => notFoundResponse(c.req.raw));
  app.onError((error) => errorResponse(error, logError));
  return app;
}
