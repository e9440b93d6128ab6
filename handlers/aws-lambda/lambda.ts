/**
 * AWS Lambda adapter. Hono's adapter turns API Gateway REST (v1), HTTP API (v2), Function URL
 * and ALB events into a Request (base64 bodies decoded to bytes, never to a string) and the
 * Response back into the result shape each event type expects. We add two things it lacks:
 * direct invocation with {"image": "<base64>"} (`aws lambda invoke`, Step Functions), and
 * Lambda's 6 MB payload limit, so a local run refuses what the cloud would.
 */
import { Hono } from 'hono';
// Hono's own Lambda types: the package's public types need nothing from @types/aws-lambda.
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { loadLiteRtRuntime } from '../../src/engine/litert-runtime.js';
import { BadRequestError, TooLargeError, toTfliteFnError } from '../../src/errors.js';
import { decodeBase64 } from '../../src/http/base64.js';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { defaultCatalog } from '../../src/model/catalog.js';

/**
 * `aws lambda invoke --payload '{"image": "<base64>", "model": "birds"}'`: classify by default;
 * `"task": "<id>"` runs any task of TASKS, the other fields being its options (as POST /<id>
 * takes them in JSON). The answer is the task's JSON.
 */
export interface DirectInvocation {
  readonly image: string;
  readonly task?: string;
  readonly model?: string;
  readonly top?: number;
  readonly resize?: 'fill' | 'cover';
  readonly [option: string]: unknown;
}

/**
 * HTTP events always carry `requestContext` (API Gateway, Function URLs) or `httpMethod`
 * (ALB); a direct invocation is whatever JSON the caller sent, so it is told apart by having
 * neither, plus an `image` string.
 */
export function isDirectInvocation(event: unknown): event is DirectInvocation {
  if (typeof event !== 'object' || event === null) return false;
  return (
    !('requestContext' in event) &&
    !('httpMethod' in event) &&
    typeof (event as { image?: unknown }).image === 'string'
  );
}

/** The size Lambda counts: the event's body as it arrived, base64 and all. */
function eventBodyBytes(event: LambdaEvent): number {
  const body = (event as { body?: unknown }).body;
  return typeof body === 'string' ? Buffer.byteLength(body) : 0;
}

export interface LambdaHandlerOptions {
  readonly app?: Hono;
  /**
   * Load and warm the default model now, during Lambda's init phase (which runs before the
   * first request, with the CPU unthrottled) instead of inside the first request.
   */
  readonly preload?: boolean;
}

/** The heavy part (sharp, the HTTP app), imported after the wasm compile has begun. */
async function loadCore() {
  const [{ createApp }, { serverlessRepositoryFromEnv }, { taskById }, { runTask }] = await Promise.all([
    import('../../src/http/app.js'),
    import('../../src/model/repository-env.js'),
    import('../../src/tasks/index.js'),
    import('../../src/tasks/run.js'),
  ]);
  /** A direct invocation: the task on the image, its JSON (errors thrown as they come). */
  const invoke = async (event: DirectInvocation): Promise<unknown> => {
    const { image, task: id, model, ...options } = event;
    if (model !== undefined && (typeof model !== 'string' || model === ''))
      throw new BadRequestError('bad_option', 'model must be a model id string');
    // Left out, the event is a classic {"image"} one: classify. Given, it must name a task.
    if (id !== undefined && typeof id !== 'string')
      throw new BadRequestError('bad_option', 'task must be a task id string, e.g. "pose"');
    const task = taskById(id ?? 'classify');
    const result = await runTask(task, decodeBase64(image), task.parseOptions(options), { model });
    return task.toJson ? task.toJson(result) : result;
  };
  return { createApp, serverlessRepositoryFromEnv, invoke };
}

function defaultModelRunsOnLiteRt(): boolean {
  try {
    // The catalog the app serves from, so its descriptors are read once.
    return defaultCatalog().plannedEngine().engine === 'litert';
  } catch {
    return true; // the first request reports a broken catalog
  }
}

function tooLargeResponse(event: LambdaEvent): Response {
  const error = new TooLargeError(
    'payload_too_large',
    `the request is ${eventBodyBytes(event)} bytes; ${BODY_LIMITS.lambda.description}`,
  );
  return Response.json(error.toJSON(), { status: error.status });
}

export type LambdaEntry = LambdaEvent | DirectInvocation;

/** The handler Lambda calls, and when it is ready. */
export interface LambdaHandler {
  (event: LambdaEntry, context?: LambdaContext): Promise<unknown>;
  /**
   * Settles once the core is imported and, with `preload`, the default model is loaded and
   * warmed. Never rejects: a failure is reported by the first invocation, which retries.
   */
  readonly ready: Promise<void>;
  /**
   * Rejects when the function cannot serve as configured: the core could not be imported, a
   * TFLITE_FN_* variable has a value it does not accept, the model repository folder is not
   * there. Every invocation would fail alike, so initLambdaHandler ends init with it.
   */
  readonly setUp: Promise<void>;
}

export function createLambdaHandler(options: LambdaHandlerOptions = {}): LambdaHandler {
  // Starting LiteRT first lets V8 compile its wasm on a background thread while the main
  // thread loads sharp's native library and the rest: ~70 ms off a cold start. Only if the
  // default model runs on LiteRT: on the native engine it would only steal the CPU.
  if (options.preload && defaultModelRunsOnLiteRt()) loadLiteRtRuntime().catch(() => undefined);
  const core = loadCore().then((loaded) => {
    // A model repository shipped in the function package (TFLITE_FN_MODEL_REPOSITORY).
    const repository = options.app ? undefined : loaded.serverlessRepositoryFromEnv();
    const app = options.app ?? loaded.createApp({ bodyLimit: BODY_LIMITS.lambda, modelSource: repository });
    return { http: handle(app), invoke: loaded.invoke, repository };
  });
  const setUp = core.then(() => undefined);
  setUp.catch(() => undefined); // initLambdaHandler reports it; the invocations too
  // A model that fails to load does not end init: the other tasks, models and repository
  // versions serve, and the requests that need it are answered why (each tries the load
  // again). The log says so once, here. The repository's versions load during init too (a bad
  // one is reported as not ready, and logged).
  const ready = core
    .then(({ repository }) =>
      options.preload
        ? Promise.all([
            defaultCatalog()
              .load()
              .catch((error: unknown) => logPreloadFailure(error)),
            repository?.settled(),
          ])
        : undefined,
    )
    .then(
      () => undefined,
      () => undefined,
    );

  // Answers every request with 413, shaped by Hono for the event type that came in.
  const tooLarge = new Hono<{ Bindings: { event: LambdaEvent } }>();
  tooLarge.all('*', (c) => tooLargeResponse(c.env.event));
  const refuse = handle(tooLarge);

  const handler = async (event: LambdaEntry, context?: LambdaContext) => {
    const { http, invoke } = await core;
    if (isDirectInvocation(event)) {
      try {
        return await invoke(event);
      } catch (error) {
        const failure = toTfliteFnError(error);
        return { ...failure.toJSON(), status: failure.status };
      }
    }
    if (eventBodyBytes(event) > BODY_LIMITS.lambda.maxBytes) return refuse(event, context);
    return http(event, context);
  };
  return Object.assign(handler, { ready, setUp });
}

function logPreloadFailure(error: unknown): void {
  const failure = toTfliteFnError(error);
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'the default model could not be loaded during init; requests that need it will say why',
      error: failure.expose ? failure.message : String(failure.cause ?? failure.message),
    }),
  );
}

/**
 * The error a function that cannot start ends its init with: one line (Lambda's log shows its
 * message and stack; here they are the same line), saying what to fix.
 */
function cannotStart(error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  const failure = new Error(`tflite-fn cannot start: ${reason.split('\n')[0]}`);
  failure.name = 'TfliteFnInitError';
  failure.stack = `${failure.name}: ${failure.message}`;
  return failure;
}

/**
 * The handler once the default model is loaded and warmed. An entry module awaits this at top
 * level, and Lambda's Node runtime finishes importing the handler module (top-level await
 * included) before it asks for the first event: the load happens in the init phase, which
 * runs at full CPU and is not part of any request, instead of inside the first invocation.
 */
export async function initLambdaHandler(options: Omit<LambdaHandlerOptions, 'preload'> = {}) {
  const handler = createLambdaHandler({ ...options, preload: true });
  // A function that cannot serve as configured fails its init, in one line, rather than every
  // invocation: the log shows it at the cold start, and a deployment with provisioned
  // concurrency fails there instead of going live. (Lambda tries init again on the next event.)
  await handler.setUp.catch((error: unknown) => {
    throw cannotStart(error);
  });
  await handler.ready;
  return handler;
}
