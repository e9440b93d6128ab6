/** The Lambda entry point: `handler` in serverless.yml. Models load once per container. */
import { createLambdaHandler } from './lambda.js';

export const handler = createLambdaHandler({ preload: true });
