/** A real nats-server with JetStream for tests and benchmarks: loopback, store in a temp folder. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/store/paths.js';
import { freePort } from './platforms/tools.js';

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
export const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((path) => existsSync(path));

export interface NatsOptions {
  /** The largest message the server accepts (nats-server's default: 1 MB). Set in a config file: it has no flag. */
  readonly maxPayload?: number;
  /** JetStream's file storage limit (default: most of the free disk). */
  readonly maxStoreBytes?: number;
}

export async function startNats(options: NatsOptions = {}): Promise<{ url: string; stop: () => void }> {
  if (!NATS_SERVER) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'tflite-fn-nats-'));
  const config: string[] = [];
  const lines = [
    ...(options.maxPayload === undefined ? [] : [`max_payload: ${options.maxPayload}`]),
    ...(options.maxStoreBytes === undefined
      ? []
      : [`jetstream { max_file_store: ${options.maxStoreBytes} }`]),
  ];
  if (lines.length > 0) {
    const file = join(store, 'nats.conf');
    writeFileSync(file, `${lines.join('\n')}\n`);
    config.push('-c', file);
  }
  const server = spawn(
    NATS_SERVER,
    [...config, '-js', '-sd', join(store, 'jetstream'), '-a', '127.0.0.1', '-p', String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
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

/**
 * Starts `tflite-fn stream` worker processes on a server and subjects; resolves once each is
 * consuming. `extraFlags` and `env` tune them (engine, concurrency, ack wait, threads).
 */
export function startStreamWorkers(
  count: number,
  url: string,
  subjects: { readonly input: string; readonly output: string; readonly deadLetter: string },
  extraFlags: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildProcess[]> {
  const cli = join(packageRoot(), 'dist', 'handlers', 'cli', 'main.js');
  const flags = [
    '--server',
    url,
    '--in',
    subjects.input,
    '--out',
    subjects.output,
    '--dead',
    subjects.deadLetter,
  ];
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [cli, 'stream', ...flags, ...extraFlags], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env,
      });
      return new Promise<ChildProcess>((resolve, reject) => {
        let output = '';
        child.on('exit', (code) => reject(new Error(`stream worker exited with ${code}:\n${output}`)));
        child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk;
          if (output.includes('"consuming"')) resolve(child);
        });
      });
    }),
  );
}
