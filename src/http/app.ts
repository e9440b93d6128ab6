/**
 * The HTTP surface every platform serves: one Hono app, `app.fetch(Request) → Response`.
 * Platform handlers only translate their events to a Request and the Response back.
 *
 *   POST /classify   image in, answer out (also under /api, where platforms prefix)
 *   POST /detect     image in, faces out: JSON, or the annotated photo for Accept: image/*
 *   GET  /models     the models this deployment knows
 *   GET  /healthz    liveness
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { type Classification, type ClassifyOptions, classify } from '../classify.js';
import { type AnnotatedFormat, annotate } from '../detect/annotate.js';
import { type Detections, type DetectOptions, detect } from '../detect/detect.js';
import { BadRequestError, TfliteFnError, toTfliteFnError, UnavailableError } from '../errors.js';
import { defaultCatalog, type ModelCatalog } from '../model/catalog.js';
import { toPlainText } from '../output/format.js';
import { packageRoot } from '../store/paths.js';
import { BODY_LIMITS, type BodyLimit } from './limits.js';
import { negotiate } from './negotiate.js';
import { readBodyCapped, readClassifyRequest } from './read-request.js';

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

function defaultLogError(error: TfliteFnError): void {
  const cause = error.cause instanceof Error ? error.cause.stack : String(error.cause ?? '');
  console.error(
    JSON.stringify({ level: 'error', code: error.code, status: error.status, message: error.message, cause }),
  );
}

export function errorResponse(
  error: unknown,
  logError: (error: TfliteFnError) => void = defaultLogError,
): Response {
  const failure = toTfliteFnError(error);
  if (failure.status >= 500 && !(failure instanceof UnavailableError)) logError(failure);
  const headers: Record<string, string> = {};
  if (failure instanceof UnavailableError) headers['retry-after'] = String(failure.retryAfterSeconds);
  return Response.json(failure.toJSON(), { status: failure.status, headers });
}

/** The 404 every surface gives for a path it does not serve. */
export function notFoundResponse(request: Request): Response {
  const path = new URL(request.url).pathname;
  return errorResponse(
    new TfliteFnError(404, 'not_found', `no route ${request.method} ${path}; try POST /classify`),
  );
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

export function createApp(options: AppOptions = {}): Hono {
  const catalog = options.catalog ?? defaultCatalog();
  const bodyLimit = options.bodyLimit ?? BODY_LIMITS.server;
  const origins = options.corsOrigins ?? corsFromEnv();
  const logError = options.logError ?? defaultLogError;
  const classifier = options.classifier ?? classify;
  const detector = options.detector ?? detectHere;
  const app = new Hono();

  if (origins === '*' || origins.length > 0) {
    app.use(
      '*',
      cors({
        origin: origins === '*' ? '*' : [...origins],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        maxAge: 600,
      }),
    );
  }

  const program = programPath(options.program ?? process.env.TFLITE_FN_PROGRAM);
  let programBytes: Promise<Uint8Array> | undefined;
  const runProgram = async (request: Request): Promise<Response> => {
    programBytes ??= readFile(program as string).catch((cause: unknown) => {
      programBytes = undefined;
      throw new TfliteFnError(500, 'program_missing', `the configured program cannot be read: ${program}`, {
        cause,
        expose: true,
      });
    });
    const stdin = await readBodyCapped(request, bodyLimit);
    // The program would only fail on nothing; say so as the client's mistake it is.
    if (stdin.length === 0) throw new BadRequestError('empty_image', 'no input was sent: the body is empty');
    const { runWasm } = await import('../wasm/sandbox.js');
    const result = await runWasm(await programBytes, { args: [basename(program as string)], stdin });
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

  for (const base of ['', '/api']) {
    if (program) app.post(`${base}/classify`, (c) => runProgram(c.req.raw));
    app.post(`${base}/classify`, async (c) => {
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
      const received = {
        bytes: request.image.length,
        sha256: createHash('sha256').update(request.image).digest('hex'),
      };
      return c.json({ ...result, received });
    });
    app.post(`${base}/detect`, async (c) => {
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
    });
    app.all(`${base}/detect`, (c) => {
      c.header('allow', 'POST');
      return errorResponse(
        new TfliteFnError(405, 'method_not_allowed', 'use POST with an image in the body'),
      );
    });
    app.all(`${base}/classify`, (c) => {
      c.header('allow', 'POST');
      return errorResponse(
        new TfliteFnError(405, 'method_not_allowed', 'use POST with an image in the body'),
      );
    });
    app.get(`${base}/models`, (c) =>
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
                labels: entry.descriptor.output?.labels.file,
              }
            : { id: entry.id, error: 'invalid descriptor' },
        ),
      }),
    );
    app.get(`${base}/healthz`, (c) => c.json({ status: 'ok' }));
  }

  app.notFound((c) => notFoundResponse(c.req.raw));
  app.onError((error) => errorResponse(error, logError));
  return app;
}
