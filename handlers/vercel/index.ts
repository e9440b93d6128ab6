/** Vercel Functions (Web-standard handlers): the Request goes straight to the app. */
import { createApp } from '../../src/http/app.js';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { serverlessRepositoryFromEnv } from '../../src/model/repository-env.js';

const app = createApp({ bodyLimit: BODY_LIMITS.vercel, modelSource: serverlessRepositoryFromEnv() });

export const GET = (request: Request): Response | Promise<Response> => app.fetch(request);
export const POST = GET;
export const OPTIONS = GET;
