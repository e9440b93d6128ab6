/**
 * The Lambda entry point for this package's own ES modules (the dev emulator, tests). The
 * top-level await makes importing it load and warm the default model, as handler.mjs does on
 * Lambda.
 */
import { initLambdaHandler } from './lambda.js';

export const handler = await initLambdaHandler();
