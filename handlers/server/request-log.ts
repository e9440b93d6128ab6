/**
 * The server's outermost middleware: every request gets an id, is refused while the server
 * drains, is counted in the metrics and logged as one JSON line.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnavailableError } from '../../src/errors.js';
import { errorShapeFor, routeLabel } from '../../src/http/access.js';
import { errorResponse } from '../../src/http/app.js';
import { bodyWasRead } from '../../src/http/read-request.js';
import type { Metrics } from './metrics.js';
import type { Logger } from './server.js';

/** The server's shutdown state, shared by the middleware, /readyz and the drain. */
export interface Lifecycle {
  /** Graceful shutdown has begun: new requests are refused, in-flight ones answered. */
  draining: boolean;
  /** Requests being answered now. */
  inFlight: number;
}

/** Logged and counted when the client left before its answer (nginx's number for it). */
const CLIENT_CLOSED_REQUEST = 499;

/** A request that came with a body we have not read to its end. */
function unreadBody(request: Request): boolean {
  const declared = request.headers.get('content-length');
  const hasBody = (declared !== null && declared !== '0') || request.headers.has('transfer-encoding');
  return hasBody && !bodyWasRead(request);
}

export function observeRequests(lifecycle: Lifecycle, metrics: Metrics, log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 128) || randomUUID();
    const begun = performance.now();
    lifecycle.inFlight++;
    try {
      if (lifecycle.draining) {
        c.res = errorResponse(
          new UnavailableError('shutting_down', 'the server is shutting down; retry on another instance', 5),
          undefined,
          errorShapeFor(c),
        );
      } else {
        await next();
      }
    } finally {
      lifecycle.inFlight--;
      c.res.headers.set('x-request-id', requestId);
      // Draining, or answered without reading a body that is there: do not stay to receive it.
      if (lifecycle.draining || unreadBody(c.req.raw)) c.res.headers.set('connection', 'close');
      const path = new URL(c.req.url).pathname;
      const ms = performance.now() - begun;
      const status = c.req.raw.signal.aborted ? CLIENT_CLOSED_REQUEST : c.res.status;
      metrics.observe(routeLabel(c), c.req.method, status, ms / 1000);
      log({ msg: 'request', requestId, method: c.req.method, path, status, ms: Math.round(ms * 10) / 10 });
    }
  };
}
