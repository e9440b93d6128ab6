/** The server's HTTP listener: its timeouts, where it listens, and its graceful drain. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ServerConfig } from './config.js';
import type { Lifecycle } from './request-log.js';
import type { Logger } from './server.js';

/** Listens on the configured host and port; resolves once it does, with the URL it serves. */
export async function listen(app: Hono, config: ServerConfig): Promise<{ server: Server; url: string }> {
  const listener = getRequestListener(app.fetch);
  const server = createServer((req, res) => void listener(req, res));
  // Longer than the usual 60 s idle timeout of load balancers, so they close first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = config.timeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return { server, url };
}

/**
 * Stops accepting connections and closes idle keep-alive ones; busy ones finish their request
 * (answered with `connection: close`) and then close. After `drainMs` whatever is still open
 * is closed.
 */
export async function drainConnections(
  server: Server,
  drainMs: number,
  lifecycle: Lifecycle,
  log: Logger,
): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timedOut = await Promise.race([
    stopped.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), drainMs).unref()),
  ]);
  if (timedOut) {
    log({ level: 'warn', msg: 'drain timed out; closing connections', inFlight: lifecycle.inFlight });
    server.closeAllConnections();
    await stopped;
  }
}
