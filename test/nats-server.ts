/** A real nats-server with JetStream for tests and benchmarks: loopback, store in a temp folder. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './platforms/tools.js';

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
export const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((path) => existsSync(path));

export async function startNats(): Promise<{ url: string; stop: () => void }> {
  if (!NATS_SERVER) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'tflite-fn-nats-'));
  const server = spawn(NATS_SERVER, ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${output}`)), 10_000);
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { url: `nats://127.0.0.1:${port}`, stop: () => server.kill('SIGKILL') };
}
