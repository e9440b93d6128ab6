/**
 * Where models and conversions are cached: per user ($XDG_CACHE_HOME/tflite-fn, else
 * ~/.cache/tflite-fn), TFLITE_FN_CACHE_DIR first, a deployment's bundled .cache when there is
 * one, /tmp/tflite-fn with one line on stderr when the home cannot be written; and files a
 * model needs fetched on first use, verified, when set-up has not run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256OfFile } from '../src/store/fetch.js';
import { packageRoot } from '../src/store/paths.js';
import { CLASSIC_GRACE_HOPPER, CLI, IMAGES, photo, SHARED_MODELS } from './helpers.js';

/** Lambda runs functions as an unprivileged user; as root, a read-only folder is not. */
const NOBODY = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

const base = mkdtempSync(join(tmpdir(), 'tflite-fn-cache-location-'));
chmodSync(base, 0o755);
after(() => {
  chmodSync(join(base, 'read-only-home'), 0o755);
  rmSync(base, { recursive: true, force: true });
});

/**
 * An installed copy of the compiled sources: a package.json named tflite-fn and no .cache beside
 * it, as in node_modules/tflite-fn (this clone has a bundled .cache, which would win).
 */
const installed = join(base, 'node_modules', 'tflite-fn');
mkdirSync(installed, { recursive: true });
writeFileSync(join(installed, 'package.json'), '{"name":"tflite-fn","type":"module"}\n');
// The whole compiled src/, as the package ships it: the paths module imports the config module.
cpSync(join(packageRoot(), 'dist', 'src'), join(installed, 'dist', 'src'), { recursive: true });

/** cacheDir() as an installed package computes it, asked twice, in a process with only `env`. */
function installedCacheDir(env: Record<string, string>, user: object = {}): { dir: string; stderr: string } {
  const script =
    "const { cacheDir } = await import('./dist/src/store/paths.js'); const first = cacheDir(); if (cacheDir() !== first) throw new Error('changed'); console.log(first);";
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: installed,
    env: { PATH: process.env.PATH ?? '', TMPDIR: base, ...env },
    encoding: 'utf8',
    ...user,
  });
  assert.equal(result.status, 0, result.stderr);
  return { dir: result.stdout.trim(), stderr: result.stderr };
}

describe('the cache location', () => {
  it('is ~/.cache/tflite-fn for an installed package, never under node_modules', () => {
    const home = join(base, 'home');
    const { dir, stderr } = installedCacheDir({ HOME: home });
    assert.equal(dir, join(home, '.cache', 'tflite-fn'));
    assert.equal(stderr, '');
  });

  it('is $XDG_CACHE_HOME/tflite-fn when that is an absolute path (a relative one is ignored, as the XDG spec says)', () => {
    const home = join(base, 'home');
    assert.equal(
      installedCacheDir({ HOME: home, XDG_CACHE_HOME: join(base, 'xdg') }).dir,
      join(base, 'xdg', 'tflite-fn'),
    );
    assert.equal(
      installedCacheDir({ HOME: home, XDG_CACHE_HOME: 'xdg' }).dir,
      join(home, '.cache', 'tflite-fn'),
    );
  });

  it('is TFLITE_FN_CACHE_DIR when set, whatever else is there', () => {
    const chosen = join(base, 'chosen');
    assert.equal(installedCacheDir({ HOME: join(base, 'home'), TFLITE_FN_CACHE_DIR: chosen }).dir, chosen);
  });

  it('is the bundled .cache beside package.json when a deployment ships one', () => {
    mkdirSync(join(installed, '.cache'));
    try {
      assert.equal(installedCacheDir({ HOME: join(base, 'home') }).dir, join(installed, '.cache'));
    } finally {
      rmSync(join(installed, '.cache'), { recursive: true });
    }
  });

  it('falls back to <tmp>/tflite-fn, said once on stderr, when the home cannot be written (Lambda, containers)', () => {
    const readOnly = join(base, 'read-only-home');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const { dir, stderr } = installedCacheDir({ HOME: readOnly }, NOBODY);
    assert.equal(dir, join(base, 'tflite-fn'));
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0] as string,
      /^tflite-fn: cannot write the model cache .*read-only-home.* using .*tflite-fn \(set TFLITE_FN_CACHE_DIR/,
    );
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('falls back the same way when the home folder is not there to make (HOME under a file)', () => {
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const { dir, stderr } = installedCacheDir({ HOME: join(file, 'home') });
    assert.equal(dir, join(base, 'tflite-fn'));
    assert.match(stderr, /is not a folder/);
  });
});

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], stdin: Uint8Array, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('first use without set-up', () => {
  it('fetches the model and labels into the cache (from the mirror folder here), verified, and answers', async () => {
    const cache = join(base, 'first-use-cache');
    const result = await runCli([], photo('grace_hopper.jpg'), {
      TFLITE_FN_CACHE_DIR: cache,
      TFLITE_FN_MIRROR: SHARED_MODELS,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), CLASSIC_GRACE_HOPPER);
    assert.match(result.stderr, /first use of mobilenet_v2_1\.0_224_quant\.tflite: fetching it into /);
    assert.match(result.stderr, /imagenet_labels\.txt (copied from a mirror|fetched), sha256 verified/);
    for (const file of ['mobilenet_v2_1.0_224_quant.tflite', 'imagenet_labels.txt'])
      assert.equal(
        await sha256OfFile(join(cache, 'models', file)),
        await sha256OfFile(join(SHARED_MODELS, file)),
        file,
      );
    // The second run finds them: nothing fetched again.
    const again = await runCli([], photo('grace_hopper.jpg'), {
      TFLITE_FN_CACHE_DIR: cache,
      TFLITE_FN_MIRROR: SHARED_MODELS,
    });
    assert.equal(again.stdout.trim(), CLASSIC_GRACE_HOPPER);
    assert.doesNotMatch(again.stderr, /first use/);
  });

  it("tflite-fn serve: the default model and the demo page's sample photo are fetched on first use too", async () => {
    const cache = join(base, 'serve-cache');
    // The mirror folders default to the shared data folder's models/ and images/.
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--workers', '1'], {
      env: { ...process.env, TFLITE_FN_CACHE_DIR: cache, TFLITE_FN_MIRROR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk;
          const found = output.match(/"url":"([^"]+)"/)?.[1];
          if (found && output.includes('"msg":"ready"')) resolve(found);
        });
        child.on('exit', () => reject(new Error(`${output}${stderr}`)));
      });
      const sample = await fetch(`${url}/samples/grace_hopper.jpg`);
      assert.equal(sample.status, 200);
      assert.deepEqual(Buffer.from(await sample.arrayBuffer()), photo('grace_hopper.jpg'));
      assert.match(stderr, /first use of grace_hopper\.jpg/);
      const classified = await fetch(`${url}/classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo('grace_hopper.jpg'),
      });
      assert.equal(((await classified.json()) as { label: string }).label, 'military uniform');
      assert.ok(existsSync(join(cache, 'models', 'mobilenet_v2_1.0_224_quant.tflite')));
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('tflite-fn dev: the photo its printed curl command sends is there, fetched on first use', async () => {
    const cache = join(base, 'dev-cache');
    const child = spawn(process.execPath, [CLI, 'dev', '--platform', 'lambda', '--port', '0'], {
      cwd: base,
      env: { ...process.env, TFLITE_FN_CACHE_DIR: cache, TFLITE_FN_MIRROR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const sent = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk;
          const found = output.match(/curl --data-binary @(\S+)/)?.[1];
          if (found) resolve(found);
        });
        child.on('exit', () => reject(new Error(output)));
      });
      assert.equal(
        await sha256OfFile(join(base, sent)),
        await sha256OfFile(join(IMAGES, 'grace_hopper.jpg')),
        sent,
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a file that cannot be fetched: what was tried on stderr, then the usual message with the fix, no stack trace', async () => {
    const models = join(base, 'user-models');
    mkdirSync(models);
    writeFileSync(
      join(models, 'absent.yaml'),
      `id: absent\ntask: classify\nmodel:\n  file: absent.tflite\n  sha256: ${'a'.repeat(64)}\ninput:\n  width: 4\n  height: 4\n  format: rgb8\noutput:\n  labels:\n    file: labels.txt\n`,
    );
    writeFileSync(join(models, 'labels.txt'), 'nothing\n');
    const emptyMirror = join(base, 'empty-mirror');
    mkdirSync(emptyMirror);
    const cache = join(base, 'failing-cache');
    const result = await runCli(['--model', 'absent'], photo('grace_hopper.jpg'), {
      TFLITE_FN_CACHE_DIR: cache,
      TFLITE_FN_MIRROR: emptyMirror,
      TFLITE_FN_MODELS: models,
    });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /could not get absent\.tflite; tried:\n\s+mirror .*empty-mirror.*not there/);
    assert.match(
      result.stderr,
      /the model file of model 'absent' is missing: absent\.tflite\. Fix: npx tflite-fn setup/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(join(cache, 'models', 'absent.tflite')), false);
  });
});
