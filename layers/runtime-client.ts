/**
 * A stand-in for Lambda's Node.js runtime (aws-lambda-ric), for machines that cannot build the
 * real one (it compiles native code and needs autotools). It does what that runtime does, in
 * the same order:
 *
 *   1. load the handler named by _HANDLER ("file.export") from LAMBDA_TASK_ROOT, trying
 *      file.js, file.mjs, file.cjs in that order; an ES module (.mjs, or .js under
 *      "type": "module") is import()ed, so its top-level await finishes before step 2,
 *      a CommonJS one is require()d;
 *   2. only then poll AWS_LAMBDA_RUNTIME_API for events, one at a time, and post each result
 *      (JSON) or error back; a handler that fails to load is reported to /init/error.
 *
 * Async handlers only (callback-style ones are gone from nodejs24.x). Imports nothing of the
 * project, so only what the task folder and NODE_PATH provide can be found.
 *
 *   AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 LAMBDA_TASK_ROOT=/var/task _HANDLER=index.handler \
 *     node runtime-client.js
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Handler = (event: unknown, context: object) => Promise<unknown>;

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerName = process.env._HANDLER ?? 'index.handler';

/** Whether the nearest package.json above `file` says "type": "module", as Node decides it. */
function underTypeModule(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

async function loadHandler(): Promise<Handler> {
  const dot = handlerName.indexOf('.');
  if (dot <= 0)
    throw Object.assign(new Error(`bad handler '${handlerName}'`), { name: 'Runtime.MalformedHandlerName' });
  const base = join(taskRoot, handlerName.slice(0, dot));
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((path) => existsSync(path));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${base}'`), { name: 'Runtime.ImportModuleError' });
  }
  const esm = file.endsWith('.mjs') || (file.endsWith('.js') && underTypeModule(file));
  let module: Record<string, unknown>;
  try {
    module = esm
      ? ((await import(pathToFileURL(file).href)) as Record<string, unknown>)
      : (createRequire(file)(file) as Record<string, unknown>);
  } catch (cause) {
    throw Object.assign(new Error(String((cause as Error).message ?? cause)), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let handler: unknown = module;
  for (const key of handlerName.slice(dot + 1).split('.'))
    handler = (handler as Record<string, unknown>)?.[key];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${handlerName} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
}

function errorBody(error: unknown): string {
  const failure = error instanceof Error ? error : new Error(String(error));
  return JSON.stringify({
    errorType: failure.name,
    errorMessage: failure.message,
    trace: (failure.stack ?? '').split('\n'),
  });
}

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  await response.arrayBuffer();
}

async function serve(handler: Handler): Promise<never> {
  for (;;) {
    const next = await fetch(`${api}/invocation/next`);
    const requestId = next.headers.get('lambda-runtime-aws-request-id') ?? '';
    const deadline = Number(next.headers.get('lambda-runtime-deadline-ms'));
    const event = (await next.json()) as unknown;
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: next.headers.get('lambda-runtime-invoked-function-arn') ?? '',
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '1769',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    const path = `/invocation/${encodeURIComponent(requestId)}`;
    let result: unknown;
    try {
      result = await handler(event, context);
    } catch (error) {
      await post(`${path}/error`, errorBody(error), {
        'lambda-runtime-function-error-type': 'Runtime.UserError',
      });
      continue;
    }
    await post(`${path}/response`, JSON.stringify(result ?? null));
  }
}

let handler: Handler;
try {
  handler = await loadHandler();
} catch (error) {
  console.error(error);
  await post('/init/error', errorBody(error), {
    'lambda-runtime-function-error-type': (error as Error).name,
  });
  process.exit(1);
}
await serve(handler);
