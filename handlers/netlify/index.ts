/** Netlify Functions v2: `(Request, Context) → Response`, so the app serves it as is. */
import { createApp } from '../../src/http/app.js';
import { BODY_LIMITS } from '../../src/http/limits.js';

const app = createApp({ bodyLimit: BODY_LIMITS.netlify });

export default (request: Request, context: unknown): Response | Promise<Response> =>
  app.fetch(request, { context });
