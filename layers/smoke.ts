/**
 * Runs a Lambda function package the way the Lambda Node.js runtime does: require the handler
 * file, call `handler(event, context)`, in a process whose only way to find tflite-fn is the
 * layer on NODE_PATH. Imports nothing of the project, so nothing can leak in from it.
 *
 *   node smoke.js /path/to/task/index.cjs photo.jpg
 *
 * Prints one JSON line: init and first-invoke times and the label; exits 1 unless the label
 * is 'military uniform'. With TFLITE_FN_PROGRAM set, the function serves that wasm program:
 * the line carries its answer instead, and any 200 passes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Handler = (
  event: object,
  context: object,
) => Promise<{ statusCode: number; body: string; isBase64Encoded?: boolean }>;

const [handlerPath, photoPath] = process.argv.slice(2);
if (!handlerPath || !photoPath) {
  console.error('usage: node smoke.js HANDLER.cjs PHOTO');
  process.exit(2);
}

const started = performance.now();
const { handler } = createRequire(import.meta.url)(handlerPath) as { handler: Handler };
const initMs = performance.now() - started;

const event = {
  version: '2.0',
  routeKey: 'POST /classify',
  rawPath: '/classify',
  rawQueryString: '',
  headers: { host: 'smoke.lambda-url.local', 'content-type': 'image/jpeg', accept: 'application/json' },
  requestContext: {
    domainName: 'smoke.lambda-url.local',
    http: {
      method: 'POST',
      path: '/classify',
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: 'smoke',
    },
    requestId: 'smoke',
    routeKey: 'POST /classify',
    stage: '$default',
  },
  body: readFileSync(photoPath).toString('base64'),
  isBase64Encoded: true,
};
const context = {
  functionName: 'tflite-fn-smoke',
  awsRequestId: 'smoke',
  getRemainingTimeInMillis: () => 30_000,
};

const invokeStarted = performance.now();
const result = await handler(event, context);
const firstInvokeMs = performance.now() - invokeStarted;
// A deployment serving a wasm program (TFLITE_FN_PROGRAM) answers with the program's text.
const serving = process.env.TFLITE_FN_PROGRAM;
const text = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
const body = serving
  ? { answer: text }
  : (JSON.parse(text) as { label?: string; engine?: string; error?: unknown });
console.log(
  JSON.stringify({
    status: result.statusCode,
    ...('answer' in body
      ? { answer: body.answer }
      : { label: body.label ?? body.error, engine: body.engine }),
    initMs: Math.round(initMs),
    firstInvokeMs: Math.round(firstInvokeMs),
    processMs: Math.round(performance.now()),
  }),
);
const ok = 'answer' in body ? result.statusCode === 200 : body.label === 'military uniform';
process.exit(ok ? 0 : 1);
