/** How every surface turns an error into a response: one JSON shape, one status per cause. */
import { TfliteFnError, toTfliteFnError, UnavailableError } from '../errors.js';
import { type ErrorShape, isOipPath } from './routes.js';

export function defaultLogError(error: TfliteFnError): void {
  const cause = error.cause instanceof Error ? error.cause.stack : String(error.cause ?? '');
  console.error(
    JSON.stringify({ level: 'error', code: error.code, status: error.status, message: error.message, cause }),
  );
}

/**
 * The error as a response in the route's shape (see RouteSpec.errors): the task routes'
 * `{"error": {code, message}}`, or the Open Inference Protocol's `{"error": "message"}`.
 */
export function errorResponse(
  error: unknown,
  logError: (error: TfliteFnError) => void = defaultLogError,
  shape: ErrorShape = 'tflite-fn',
): Response {
  const failure = toTfliteFnError(error);
  if (failure.status >= 500 && !(failure instanceof UnavailableError)) logError(failure);
  const headers: Record<string, string> = {};
  if (failure instanceof UnavailableError) headers['retry-after'] = String(failure.retryAfterSeconds);
  const body = failure.toJSON();
  return Response.json(shape === 'oip' ? { error: body.error.message } : body, {
    status: failure.status,
    headers,
  });
}

/**
 * The 404 every surface gives for a path it does not serve: under /v2 in the protocol's shape,
 * pointing at its entry point; elsewhere the task routes' envelope.
 */
export function notFoundResponse(request: Request): Response {
  const path = new URL(request.url).pathname;
  const oip = isOipPath(path);
  const hint = oip ? 'GET /v2 and /v2/models/{name} describe what is served' : 'try POST /classify';
  return errorResponse(
    new TfliteFnError(404, 'not_found', `no route ${request.method} ${path}; ${hint}`),
    undefined,
    oip ? 'oip' : 'tflite-fn',
  );
}
