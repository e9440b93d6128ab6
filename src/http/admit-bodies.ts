/**
 * The middleware that admits bodies before anything reads them: routes whose table entry says
 * they run a model take a share of the BodyBudget or are answered 503 + Retry-After at once.
 * Other routes never read a body, so they need no share.
 */
import type { MiddlewareHandler } from 'hono';
import { errorShapeFor, matchedRoute } from './access.js';
import { type BodyBudget, noRoomForBody, recordAdmission } from './body-budget.js';
import type { BodyLimit } from './limits.js';
import { declaredLength } from './read-request.js';
import { errorResponse } from './respond.js';

export function admitBodies(budget: BodyBudget, limit: BodyLimit): MiddlewareHandler {
  return async (c, next) => {
    if (matchedRoute(c)?.does !== 'inference' || c.req.method !== 'POST') return next();
    const declared = declaredLength(c.req.raw);
    // Over the body limit: the handler's 413 says so before reading; no share needed.
    if (declared !== undefined && declared > limit.maxBytes) return next();
    const admission = budget.admit(declared);
    if (!admission) return errorResponse(noRoomForBody(), undefined, errorShapeFor(c));
    recordAdmission(c.req.raw, admission);
    try {
      await next();
    } finally {
      admission.release();
    }
  };
}
