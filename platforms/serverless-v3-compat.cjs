// A Serverless Framework v3 plugin with two fixes for running v3 today (v4 needs a login and
// downloads itself, so it cannot run offline or in our CI):
//
// 1. Runtimes. v3's configuration schema stopped at nodejs20.x, which AWS has since retired.
//    We teach the validator the Node.js runtimes AWS added after v3 froze, so the config can
//    ask for nodejs22.x and still be validated strictly (configValidationMode: error).
//
// 2. Offline packaging. With a `layers:` section, v3's package step asks CloudFormation for
//    the deployed stack (to compare layer versions). Without credentials or network that call
//    fails and packaging stops. When AWS cannot be reached, we answer the way AWS does for a
//    stack that was never deployed. With credentials the real call is made, so deploys are
//    untouched.
'use strict';

const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const NEWER_NODE_RUNTIMES = ['nodejs22.x', 'nodejs24.x'];

class ServerlessV3Compat {
  constructor(serverless) {
    const runtimes = serverless.configSchemaHandler.schema.definitions?.awsLambdaRuntime?.enum;
    if (Array.isArray(runtimes)) {
      for (const runtime of NEWER_NODE_RUNTIMES) if (!runtimes.includes(runtime)) runtimes.push(runtime);
    }

    const provider = serverless.getProvider('aws');
    const request = provider.request.bind(provider);
    provider.request = async (service, method, ...rest) => {
      const offline = (await offlineAsked()) || !hasCredentials();
      if (offline && service === 'CloudFormation' && method === 'describeStacks') {
        const error = new Error(`Stack with id ${provider.naming.getStackName()} does not exist`);
        error.providerError = { code: 'ValidationError', statusCode: 400 };
        throw error;
      }
      return request(service, method, ...rest);
    };
  }
}

// TFLITE_FN_OFFLINE_PACKAGE=1 packages offline even with credentials. Like every TFLITE_FN_*
// variable it is read through src/config, compiled into dist/ (which the function package
// ships, so it is built before any packaging).
async function offlineAsked() {
  const config = pathToFileURL(join(__dirname, '..', 'dist', 'src', 'config', 'index.js')).href;
  return (await import(config)).OFFLINE_PACKAGE.value();
}

function hasCredentials() {
  const env = process.env;
  return Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE);
}

module.exports = ServerlessV3Compat;
