export { type AppOptions, createApp, errorResponse } from './app.js';
export { decodeBase64, encodeBase64 } from './base64.js';
export { BODY_LIMITS, type BodyLimit } from './limits.js';
export { negotiate, parseFormat, type ResponseFormat } from './negotiate.js';
export { type ClassifyRequest, readBodyCapped, readClassifyRequest } from './read-request.js';
export { ROUTES, type RouteSpec, type RouteWork } from './routes.js';
