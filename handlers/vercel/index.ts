/** Vercel Functions (Web-standard handlers): the Request goes straight to the app. */
import { createApp } from '../../src/http/app.js';
import { BODY_LIMITS } from '../../src/http/limits.js';

const app = createApp({ bodyLimit: BODY_LIMITS.vercel });

export const GET = (request: Request): Response | Promise<Response> => app.fetch(request);
export const POST = GET;
export const OPTIONS = GET;
