/**
 * Self-hosted server figures (issue #4): time from start to ready (models loaded and warmed in
 * every worker), and throughput / latency under autocannon at 8 connections on loopback.
 */
import autocannon from 'autocannon';
import { serverConfig } from '../handlers/server/config.js';
import { startServer } from '../handlers/server/server.js';
import { round } from './stats.js';

export async function serverLoad(photo: Buffer, seconds: number) {
  const started = performance.now();
  const server = await startServer(serverConfig({ port: '0' }, {}), () => undefined);
  try {
    await server.ready;
    const readyMs = performance.now() - started;
    process.stderr.write(
      `server load: ${server.pool.size} workers ready in ${Math.round(readyMs)} ms; ${seconds} s at 8 connections...\n`,
    );
    const result = await autocannon({
      url: `${server.url}/classify`,
      connections: 8,
      duration: seconds,
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: photo,
    });
    return {
      workers: server.pool.size,
      readyMs: round(readyMs),
      connections: 8,
      seconds,
      perSecond: round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
    };
  } finally {
    await server.close();
  }
}
