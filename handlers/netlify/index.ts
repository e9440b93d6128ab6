/** Netlify Functions v2: `(Request, Context) → Response`, so the app serves it as is. */
import { createApp } from '../../src/http/app.js';
import { BODY_LIMITS } from '../../src/http/limits.js';
import { serverlessRepositoryFromEnv } from '../../src/model/repository-env.js';

const app = createApp({ bodyLimit: BODY_LIMITS.netlify, modelSource: serverlessRepositoryFromEnv() });

export default (request: Request, context: unknown): Response | Promise<Response> =>
  app.fetch(request, { context });
