// The Lambda function package: this file only. Everything else (the core, sharp, LiteRT, the
// models) comes from the tflite-fn layer at /opt/nodejs/node_modules.
//
// CommonJS on purpose: Lambda puts the layer on NODE_PATH, which require() honours and ESM
// `import` does not. We resolve the layer's ES module with require.resolve, then import it.
// Outside Lambda (tests, `serverless invoke local`) the same name resolves to this package.
const { pathToFileURL } = require('node:url');

const ready = import(pathToFileURL(require.resolve('tflite-fn/aws-lambda')).href).then((lambda) =>
  lambda.createLambdaHandler({ preload: true }),
);

exports.handler = async (event, context) => (await ready)(event, context);
