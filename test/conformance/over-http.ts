/** `invoke` over real HTTP on loopback, for servers: the dev emulator and the platforms' own. */
import type { HttpResponseParts } from '../../handlers/dev/lambda-events.js';
import type { InvokeRequest } from './suite.js';

export function overHttp(base: () => string) {
  return async (request: InvokeRequest): Promise<HttpResponseParts> => {
    const init: RequestInit = { method: request.method, headers: request.headers ?? {} };
    if (request.body && request.body.length > 0) init.body = request.body;
    const response = await fetch(`${base()}${request.path}${request.query ? `?${request.query}` : ''}`, init);
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: new Uint8Array(await response.arrayBuffer()),
    };
  };
}
