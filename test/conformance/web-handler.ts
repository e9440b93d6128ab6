/** `invoke` for Web-standard handlers (Vercel, Netlify): a Request in, the Response's parts out. */
import type { HttpResponseParts } from '../../handlers/dev/lambda-events.js';
import type { InvokeRequest } from './suite.js';

export async function invokeWebHandler(
  handle: (request: Request) => Response | Promise<Response>,
  request: InvokeRequest,
  origin = 'https://tflite-fn.example',
): Promise<HttpResponseParts> {
  const url = `${origin}${request.path}${request.query ? `?${request.query}` : ''}`;
  const init: RequestInit = { method: request.method, headers: request.headers ?? {} };
  if (request.body && request.body.length > 0) init.body = request.body;
  const response = await handle(new Request(url, init));
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: new Uint8Array(await response.arrayBuffer()),
  };
}
