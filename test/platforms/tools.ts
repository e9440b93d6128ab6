/**
 * The platforms' own CLIs live in platforms/ (installed by .ci/run with `npm ci --prefix
 * platforms`), to keep the main install lean. Locally, tests that need one are skipped with the
 * command that installs it; in CI (CI=true) a missing tool is a failure, never a silent skip.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CACHE_DIR } from '../../src/config/index.js';
import { packageRoot } from '../../src/store/paths.js';
import { projectCopy } from './project-copy.js';

/** The clone: where the platform CLIs are installed. */
const SOURCE_ROOT = packageRoot();

/**
 * The project the tools build and run in: a temporary copy, removed when the test process
 * ends, so that no build output lands in the clone.
 */
export const ROOT = projectCopy(SOURCE_ROOT);
process.on('exit', () => rmSync(dirname(ROOT), { recursive: true, force: true }));

export function platformTool(name: string): string | undefined {
  const path = join(SOURCE_ROOT, 'platforms', 'node_modules', '.bin', name);
  if (existsSync(path)) return path;
  if (process.env.CI) throw new Error(`${name} is not installed: .ci/run must run npm ci --prefix platforms`);
  return undefined;
}

export const SKIP_REASON = 'platform CLIs not installed (npm ci --prefix platforms)';

function withoutCacheDir(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  delete rest[CACHE_DIR.name];
  return rest;
}

/** Quiet, offline settings for the tools, whatever the caller's environment says. */
export const TOOL_ENV: NodeJS.ProcessEnv = {
  // Without the test run's cache folder (test/run-tests.ts): a tool builds, and a built
  // function runs, with the project copy's own .cache, as it would be deployed.
  ...withoutCacheDir(process.env),
  SLS_TELEMETRY_DISABLED: '1',
  SLS_NOTIFICATIONS_MODE: 'off',
  SLS_DEPRECATION_DISABLE: '*',
  NETLIFY_TELEMETRY_DISABLED: '1',
  VERCEL_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  CI: '1',
};

export function zipEntries(zip: string): string[] {
  return execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\n')
    .filter(Boolean);
}

export interface ToolRun {
  readonly status: number | null;
  readonly output: string;
}

/** Runs a tool to completion, with a time limit, collecting stdout and stderr together. */
export function runTool(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? TOOL_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** Starts a long-running tool and resolves once a line of its output matches `ready`. */
export function startTool(
  command: string,
  args: readonly string[],
  ready: RegExp,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ match: RegExpMatchArray; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? TOOL_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        process.kill(-(child.pid as number), 'SIGTERM'); // the tool's whole process group
      });
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} was not ready after ${options.timeoutMs ?? 120_000} ms:\n${output}`));
    }, options.timeoutMs ?? 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ match, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
