/**
 * Runs a Lambda function package as Lambda does and classifies one photo with it: a runtime
 * process started in the task folder (our runtime-client.js, or the real aws-lambda-ric's
 * bin/index.mjs named by TFLITE_FN_LAMBDA_RIC) polls a local Runtime API for the event. The
 * runtime gets this process's environment: the caller puts the layer on NODE_PATH, so nothing
 * of the project can leak in.
 *
 *   node smoke.js /path/to/task photo.jpg
 *
 * Prints one JSON line: init ms (runtime start to its first poll for an event: Lambda's Init
 * Duration), the first invocation's ms (Lambda's Duration) and the label; exits 1 unless the
 * label is 'military uniform'. With TFLITE_FN_PROGRAM set, the function serves that wasm
 * program (and TFLITE_FN_NN_PRELOAD, the models it loads by name, from the task folder): the
 * line carries its answer instead, and any 200 passes.
 */
import { readFileSync } from 'node:fs';
import { CACHE_DIR, PROGRAM } from '../src/config/index.js';
import { FUNCTION_HANDLER } from './function-package.js';
import { realRuntimeClient, runLambdaFunction } from './lambda-run.js';

interface HttpResult {
  readonly statusCode: number;
  readonly body: string;
  readonly isBase64Encoded?: boolean;
}

const [taskRoot, photoPath] = process.argv.slice(2);
if (!taskRoot || !photoPath) {
  console.error('usage: node smoke.js TASK_FOLDER PHOTO');
  process.exit(2);
}

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

// The caller's environment, less a cache folder of its own (the test run sets one): the
// function must find its models in the layer, as on Lambda.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== CACHE_DIR.name,
  ),
);
const ric = realRuntimeClient();
const run = await runLambdaFunction({
  taskRoot,
  handler: FUNCTION_HANDLER,
  events: [event],
  env,
  ...(ric ? { ric } : {}),
});
const [first] = run.invocations;
if (!first?.response) {
  console.log(`${run.stdout}${run.stderr}`.trim());
  console.log(JSON.stringify({ initError: run.initError, error: first?.error }));
  process.exit(1);
}
const result = first.response as HttpResult;
// A deployment serving a wasm program (TFLITE_FN_PROGRAM) answers with the program's text.
const serving = PROGRAM.read();
const text = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
const body = serving
  ? { answer: text }
  : (JSON.parse(text) as { label?: string; engine?: string; error?: unknown });
// The runtime's own output (Lambda's logs) before the report line, which stays last.
if (run.stderr.trim()) console.error(run.stderr.trim());
console.log(
  JSON.stringify({
    status: result.statusCode,
    ...('answer' in body
      ? { answer: body.answer }
      : { label: body.label ?? body.error, engine: body.engine }),
    runtime: ric ? 'aws-lambda-ric' : 'runtime-client (stand-in)',
    initMs: Math.round(run.initMs),
    firstInvokeMs: Math.round(first.durationMs),
  }),
);
const ok = 'answer' in body ? result.statusCode === 200 : body.label === 'military uniform';
process.exit(ok ? 0 : 1);
