// The Lambda function package: this file only (serverless.yml's `handler`). Everything else
// (the core, sharp, onnxruntime, LiteRT, the models) comes from the tflite-fn layer at
// /opt/nodejs/node_modules.
//
// An ES module for its top-level await: Lambda's Node.js runtime finishes importing the
// handler module before it asks for the first event, so the model loads and warms during
// init (full CPU, not billed to a request) instead of inside the first invocation.
//
// The layer is on NODE_PATH, which require() honours and ESM `import` does not: we resolve
// tflite-fn with a require function, then import it. Outside Lambda (tests, `serverless invoke
// local`) the same name resolves to this package itself.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const lambda = await import(
  pathToFileURL(createRequire(import.meta.url).resolve('tflite-fn/aws-lambda')).href
);

export const handler = await lambda.initLambdaHandler();
