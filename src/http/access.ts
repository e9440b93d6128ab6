/**
 * Who may call what, decided from the route the router matched: the same match that picks the
 * handler, so a path the router reads as /classify (`/%63lassify`, say) is guarded as
 * /classify. What is not an `open` route in the table needs the key, unknown paths included.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { matchedRoutes } from 'hono/route';
import { TfliteFnError } from '../errors.js';
import { errorResponse } from './respond.js';
import { type ErrorShape, errorShapeOf, type RouteSpec, routeOfPattern, UNMATCHED_LABEL } from './routes.js';

/** The table entry of the route the router matched for this request, if any. */
export function matchedRoute(c: Context): RouteSpec | undefined {
  for (const route of matchedRoutes(c)) {
    const spec = routeOfPattern(route.path);
    if (spec) return spec;
  }
  return undefined;
}

/** How an error answer to this request is written (the route's shape; the protocol's under /v2). */
export function errorShapeFor(c: Context): ErrorShape {
  return errorShapeOf(matchedRoute(c), c.req.path);
}

/** The `route` metrics label: the table's, or one fixed value for anything else. */
export function routeLabel(c: Context): string {
  return matchedRoute(c)?.label ?? UNMATCHED_LABEL;
}

/** Hashed first, so the comparison takes the same time whatever the lengths. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The key may come as `x-api-key`, `authorization: Bearer`, or `dapr-api-token` (what a Dapr
 * sidecar started with APP_API_TOKEN=<key> sends on every call to the app).
 */
function presentedKeys(c: Context): string[] {
  const bearer = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
  return [c.req.header('x-api-key'), bearer, c.req.header('dapr-api-token')].filter(
    (key): key is string => typeof key === 'string' && key.length > 0,
  );
}

export function requireApiKey(key: string): MiddlewareHandler {
  const expected = digest(key);
  return async (c, next) => {
    if (matchedRoute(c)?.open) return next();
    if (presentedKeys(c).some((given) => timingSafeEqual(digest(given), expected))) return next();
    const denied = errorResponse(
      new TfliteFnError(401, 'unauthorized', 'send the API key in x-api-key or authorization: Bearer'),
      undefined,
      errorShapeFor(c),
    );
    denied.headers.set('www-authenticate', 'Bearer');
    return denied;
  };
}

/** CORS for the listed origins; a preflight is told the method the matched route serves. */
export function corsFromTable(origins: '*' | readonly string[]): MiddlewareHandler {
  return cors({
    origin: origins === '*' ? '*' : [...origins],
    allowMethods: (_origin, c) => {
      const route = matchedRoute(c);
      return route ? [route.method, 'OPTIONS'] : [];
    },
    maxAge: 600,
  });
}
