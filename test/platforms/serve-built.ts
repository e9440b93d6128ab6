/**
 * Serves a built Web-standard function (Vercel's .func output, or the unzipped function
 * `netlify build` produced) on loopback, so the conformance suite can run against exactly
 * what the platform's build made:
 *
 *   node serve-built.js /tmp/classify.func/api/classify.js
 *
 * Prints `listening <url>` when ready. Imports nothing of the project: the function must stand
 * on the files the build put beside it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

type WebHandler = (request: Request, context?: object) => Response | Promise<Response>;

const entry = process.argv[2];
if (!entry) throw new Error('usage: serve-built.js FUNCTION_ENTRY.js');
const handlers = (await import(pathToFileURL(entry).href)) as Record<string, WebHandler | undefined>;

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(key, value);
  }
  const method = req.method ?? 'GET';
  // Vercel exports one handler per method; a Netlify Functions v2 file one default for all.
  const handler = handlers[method] ?? handlers.default;
  if (!handler) {
    res.writeHead(405).end();
    return;
  }
  const init: RequestInit = { method, headers };
  if (body.length > 0) init.body = body;
  const response = await handler(new Request(`http://${req.headers.host}${req.url}`, init), {
    requestId: 'serve-built',
  });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
