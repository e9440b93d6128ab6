/**
 * "This change must not slow X by more than 5%" is a claim about two builds, and a machine's
 * speed drifts by more than 5% between runs. So both builds are measured in one run,
 * alternating: an earlier commit is exported (git archive, no change to this repository's
 * worktrees), built beside this one in a temporary folder with the same node_modules, set up
 * with its own model cache from the same mirror, and its CLI and library run in child
 * processes exactly as this build's are.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, packageRoot, sharedDataDir } from '../src/store/paths.js';

export interface Build {
  /** 'this build' or the commit's short name. */
  readonly name: string;
  readonly root: string;
  /** Environment its processes run with (its own model cache). */
  readonly env: NodeJS.ProcessEnv;
}

export function thisBuild(): Build {
  return {
    name: 'this build',
    root: packageRoot(),
    env: { ...process.env, TFLITE_FN_CACHE_DIR: cacheDir() },
  };
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): void {
  execFileSync(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Exports `commit`, builds it and runs its set-up (fetching from this machine's mirror, so
 * offline works). Returns the build and a function that removes it.
 */
export function buildCommit(commit: string): { build: Build; remove: () => void } {
  const root = packageRoot();
  const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-baseline-'));
  const remove = () => rmSync(folder, { recursive: true, force: true });
  try {
    const tree = join(folder, 'tree');
    mkdirSync(tree);
    const archive = execFileSync('git', ['-C', root, 'archive', '--format=tar', commit], {
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', tree], { input: archive });
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
    if (existsSync(join(root, 'platforms', 'node_modules')))
      symlinkSync(join(root, 'platforms', 'node_modules'), join(tree, 'platforms', 'node_modules'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TFLITE_FN_CACHE_DIR: join(folder, 'cache'),
      TFLITE_FN_SHARED_DIR: sharedDataDir(),
    };
    run('npx', ['tsc', '-p', '.'], tree, env);
    run(process.execPath, ['dist/scripts/snapshot-descriptors.js'], tree, env);
    run(process.execPath, ['dist/handlers/cli/main.js', 'setup'], tree, env);
    return { build: { name: commit.slice(0, 7), root: tree, env }, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** Spawns `node <file> ...args` in a build, feeding `stdin`; resolves with stdout and times. */
export function runInBuild(
  build: Build,
  args: readonly string[],
  stdin: Uint8Array,
): Promise<{ stdout: string; firstOutputMs: number; exitMs: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: build.root,
      env: build.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let firstOutputMs = 0;
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (!firstOutputMs) firstOutputMs = performance.now() - started;
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`${build.name}: node ${args.join(' ')} exited with ${status}`));
      else resolvePromise({ stdout, firstOutputMs, exitMs: performance.now() - started });
    });
    child.stdin.end(stdin);
  });
}
