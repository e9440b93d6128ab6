// The same function as handler.mjs, for tools that cannot load an ES module with top-level
// await: Serverless v3's `serverless invoke local` require()s the handler and tries `.cjs`
// when there is no `.js`. Lambda's runtime tries `.mjs` before `.cjs`, so it never loads this
// file. CommonJS has no top-level await: here the model loads during the first request.
const { pathToFileURL } = require('node:url');

const ready = import(pathToFileURL(require.resolve('tflite-fn/aws-lambda')).href).then((lambda) =>
  lambda.createLambdaHandler({ preload: true }),
);

exports.handler = async (event, context) => (await ready)(event, context);
