/**
 * The HTTP surface every platform serves: one Hono app, `app.fetch(Request) → Response`.
 * Platform handlers only translate their events to a Request and the Response back.
 *
 *   POST /classify   image in, answer out (also under /api, where platforms prefix)
 *   POST /detect     image in, faces out: JSON, or the annotated photo for Accept: image/*
 *   GET  /models     the models this deployment knows
 *   GET  /healthz    liveness
 *
 * Which routes exist, who may call them and how they are labelled is the route table's
 * (routes.ts): this file supplies handlers for its entries and registers nothing else.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { type Context, Hono } from 'hono';
import { type Classification, type ClassifyOptions, classify } from '../classify.js';
import { type AnnotatedFormat, annotate, type Detections, type DetectOptions, detect } from '../detect.js';
import { BadRequestError, TfliteFnError } from '../errors.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { toPlainText } from '../output/format.js';
import { packageRoot } from '../store/paths.js';
import { taskById } from '../tasks/index.js';
import { corsFromTable, requireApiKey } from './access.js';
import { admitBodies } from './admit-bodies.js';
import type { BodyBudget } from './body-budget.js';
import { BODY_LIMITS, type BodyLimit } from './limits.js';
import { negotiate } from './negotiate.js';
import { readBodyCapped, readClassifyRequest } from './read-request.js';
import { defaultLogError, errorResponse, notFoundResponse } from './respond.js';
import { type PlatformRouteId, ROUTES, type RouteId, type RouteSpec, type ServerRouteId } from './routes.js';

export { errorResponse, notFoundResponse };

export type RouteHandler = (c: Context) => Response | Promise<Response>;

export interface AppOptions {
  readonly catalog?: ModelCatalog;
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
   * What classifies: the core in this process by default; the self-hosted server passes its
   * worker pool. Everything else (routes, parsing, negotiation, errors) stays one code path.
   */
  readonly classifier?: (image: Uint8Array, options: ClassifyOptions) => Promise<Classification>;
  /** What detects (and draws the annotated photo when asked): the core here by default. */
  readonly detector?: Detector;
  /**
   * A WasmEdge-style program (.wasm) that answers POST /classify instead of the built-in
   * classifier: the request body is its stdin, its stdout the response (text/plain), as
   * WasmEdge's serverless templates do. Default: TFLITE_FN_PROGRAM.
   */
  readonly program?: string | undefined;
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

export type Detector = (
  image: Uint8Array,
  options: DetectOptions & { annotate?: AnnotatedFormat | undefined },
) => Promise<{ detections: Detections; image?: Uint8Array | undefined }>;

/** Detection in this process: the core's detect(), plus the annotated photo when asked for. */
export const detectHere: Detector = async (image, options) => {
  const detections = await detect(image, options);
  return {
    detections,
    image: options.annotate ? await annotate(image, detections, options.annotate) : undefined,
  };
};

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

/** A program (.wasm) that answers POST /classify: the body is its stdin, its stdout the answer. */
function programHandler(program: string, bodyLimit: BodyLimit): RouteHandler {
  let programBytes: Promise<Uint8Array> | undefined;
  return async (c) => {
    programBytes ??= readFile(program).catch((cause: unknown) => {
      programBytes = undefined;
      throw new TfliteFnError(500, 'program_missing', `the configured program cannot be read: ${program}`, {
        cause,
        expose: true,
      });
    });
    const stdin = await readBodyCapped(c.req.raw, bodyLimit);
    // The program would only fail on nothing; say so as the client's mistake it is.
    if (stdin.length === 0) throw new BadRequestError('empty_image', 'no input was sent: the body is empty');
    const { runWasm } = await import('../wasm/sandbox.js');
    const result = await runWasm(await programBytes, { args: [basename(program)], stdin });
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

interface CoreSetup {
  readonly catalog: ModelCatalog;
  readonly bodyLimit: BodyLimit;
  readonly classifier: NonNullable<AppOptions['classifier']>;
  readonly detector: Detector;
}

function classifyHandler({ catalog, bodyLimit, classifier }: CoreSetup): RouteHandler {
  return async (c) => {
    const request = await readClassifyRequest(c.req.raw, bodyLimit);
    let format = request.format ?? negotiate(c.req.header('accept'));
    if (format === 'jpeg' || format === 'png') {
      if (request.format)
        throw new BadRequestError('bad_option', `format ${format} (an annotated photo) is for /detect`);
      format = 'json'; // Accept: image/* on /classify: the answer is data, not a picture
    }
    const result = await classifier(request.image, {
      model: request.model,
      top: request.top,
      resize: request.resize,
      catalog,
    });
    c.header('vary', 'Accept');
    if (format === 'html') return c.html(result.sentence);
    if (format === 'text') return c.text(`${toPlainText(result)}\n`);
    // What arrived, so a client can tell a mangled upload (the classic base64/UTF-8 bug of
    // serverless front doors) from a wrong answer.
    // Hashed on the thread pool (WebCrypto's digest is asynchronous): 32 MB would hold the
    // main loop for a tenth of a second.
    const digest = await crypto.subtle.digest('SHA-256', request.image as Uint8Array<ArrayBuffer>);
    const received = { bytes: request.image.length, sha256: Buffer.from(digest).toString('hex') };
    return c.json({ ...result, received });
  };
}

function detectHandler({ catalog, bodyLimit, detector }: CoreSetup): RouteHandler {
  return async (c) => {
    const request = await readClassifyRequest(c.req.raw, bodyLimit);
    const format = request.format ?? negotiate(c.req.header('accept'));
    const annotated = format === 'jpeg' || format === 'png' ? format : undefined;
    const tiling = new URL(c.req.url).searchParams.get('tiling') !== 'false';
    const { detections, image } = await detector(request.image, {
      model: request.model,
      tiling,
      annotate: annotated,
      catalog,
    });
    c.header('vary', 'Accept');
    if (annotated && image)
      return new Response(image as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': `image/${annotated}`, vary: 'Accept' },
      });
    if (format === 'text') {
      return c.text(
        `${detections.faces.length} ${detections.faces.length === 1 ? 'face' : 'faces'}\n${detections.faces.map((f) => `${f.score.toFixed(3)}  ${f.box.x},${f.box.y} ${f.box.width}x${f.box.height}`).join('\n')}\n`,
      );
    }
    return c.json(detections);
  };
}

function modelsHandler(catalog: ModelCatalog): RouteHandler {
  return (c) =>
    c.json({
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
    });
}

function methodNotAllowed(route: RouteSpec): RouteHandler {
  const hint = route.method === 'POST' ? 'use POST with an image in the body' : `use ${route.method}`;
  return (c) => {
    c.header('allow', route.method);
    return errorResponse(new TfliteFnError(405, 'method_not_allowed', hint));
  };
}

/**
 * Registers the table's routes that have a handler, and only those: each path with its
 * method, and a 405 naming that method for any other (so every path of the table matches a
 * route whatever the method, and access and CORS can read it).
 */
function serveRoutes(app: Hono, handlers: Partial<Record<RouteId, RouteHandler>>): void {
  for (const route of ROUTES as readonly RouteSpec[]) {
    const handler = handlers[route.id as RouteId];
    if (!handler) continue;
    for (const path of route.paths) {
      app.on(route.method, path, handler);
      app.all(path, methodNotAllowed(route));
    }
  }
}

export function createApp(options: AppOptions = {}): Hono {
  const setup: CoreSetup = {
    catalog: options.catalog ?? defaultCatalog(),
    bodyLimit: options.bodyLimit ?? BODY_LIMITS.server,
    classifier: options.classifier ?? classify,
    detector: options.detector ?? detectHere,
  };
  const origins = options.corsOrigins ?? corsFromEnv();
  const logError = options.logError ?? defaultLogError;
  const app = new Hono();

  // CORS first, so a preflight (which carries no key) is answered and a 401 can be read.
  if (origins === '*' || origins.length > 0) app.use('*', corsFromTable(origins));
  if (options.apiKey) app.use('*', requireApiKey(options.apiKey));
  if (options.bodyBudget) app.use('*', admitBodies(options.bodyBudget, setup.bodyLimit));

  const program = programPath(options.program ?? process.env.TFLITE_FN_PROGRAM);
  const platformRoutes: Record<PlatformRouteId, RouteHandler> = {
    classify: program ? programHandler(program, setup.bodyLimit) : classifyHandler(setup),
    detect: detectHandler(setup),
    models: modelsHandler(setup.catalog),
    healthz: (c) => c.json({ status: 'ok' }),
  };
  serveRoutes(app, { ...platformRoutes, ...options.serverRoutes });

  app.notFound((c) => notFoundResponse(c.req.raw));
  app.onError((error) => errorResponse(error, logError));
  return app;
}
