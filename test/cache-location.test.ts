/**
 * Where models and conversions are cached: TFLITE_FN_CACHE_DIR first (an error naming it when
 * it cannot be written), a deployment's bundled .cache when there is one, else per user
 * ($XDG_CACHE_HOME/tflite-fn, ~/.cache/tflite-fn) or <tmp>/tflite-fn, the first that can really
 * be written, with one line on stderr when the cache moved, and one error when nothing can be
 * written. The unwritable folders are ones root is refused too (a file on the path, /proc, /sys,
 * a full tmpfs in a namespace of the test's own), so the tests mean the same as root, as CI runs
 * them, and as a user. Then files a model needs, fetched on first use, verified, when set-up has
 * not run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256OfFile } from '../src/store/fetch.js';
import { packageRoot } from '../src/store/paths.js';
import { CLASSIC_GRACE_HOPPER, CLI, IMAGES, photo, SHARED_MODELS } from './helpers.js';

/** Lambda runs functions as an unprivileged user; as root, a read-only folder is not. */
const NOBODY = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
const AS_ROOT = process.getuid?.() === 0;

const base = mkdtempSync(join(tmpdir(), 'tflite-fn-cache-location-'));
chmodSync(base, 0o755);
after(() => {
  if (existsSync(join(base, 'read-only-home'))) chmodSync(join(base, 'read-only-home'), 0o755);
  rmSync(base, { recursive: true, force: true });
});

/**
 * An installed copy of the compiled sources: a package.json named tflite-fn and no .cache beside
 * it, as in node_modules/tflite-fn (this clone has a bundled .cache, which would win).
 */
const installed = join(base, 'node_modules', 'tflite-fn');
mkdirSync(installed, { recursive: true });
writeFileSync(join(installed, 'package.json'), '{"name":"tflite-fn","type":"module"}\n');
// The whole compiled src/, as the package ships it (the paths module imports the config module),
// and how the CLI words an error.
cpSync(join(packageRoot(), 'dist', 'src'), join(installed, 'dist', 'src'), { recursive: true });
mkdirSync(join(installed, 'dist', 'handlers', 'cli'), { recursive: true });
cpSync(
  join(packageRoot(), 'dist', 'handlers', 'cli', 'messages.js'),
  join(installed, 'dist', 'handlers', 'cli', 'messages.js'),
);

let tmpCount = 0;
/** A fresh temporary folder writable by everyone, like /tmp, for one run's TMPDIR. */
function freshTmp(): string {
  const dir = join(base, `tmp-${++tmpCount}`);
  mkdirSync(dir);
  chmodSync(dir, 0o1777);
  return dir;
}

/** A folder the test user can make and write, standing for a home. */
function freshHome(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

interface Located {
  /** The folder cacheDir() returned, asked twice; '' when it threw. */
  readonly dir: string;
  readonly stderr: string;
  /** What it threw: its code, the line the CLI prints, and what a client is sent. */
  readonly error?: { code?: string; status?: number; line: string; client: unknown };
}

const SCRIPT = `
const { cacheDir } = await import('./dist/src/store/paths.js');
const { localMessage } = await import('./dist/handlers/cli/messages.js');
try {
  const first = cacheDir();
  if (cacheDir() !== first) throw new Error('changed');
  console.log(first);
} catch (error) {
  console.log(JSON.stringify({ code: error.code, status: error.status, line: localMessage(error, false), client: error.toJSON?.() }));
}`;

/**
 * cacheDir() as an installed package computes it, in a process with only `env` (TMPDIR a fresh
 * writable folder unless given), as `user`, its command line changed by `wrap` when given.
 */
function installedCacheDir(
  env: Record<string, string>,
  options: { user?: object; wrap?: (argv: string[]) => string[] } = {},
): Located {
  const argv = [process.execPath, '--input-type=module', '-e', SCRIPT];
  const [command, ...args] = options.wrap ? options.wrap(argv) : argv;
  const result = spawnSync(command as string, args, {
    cwd: installed,
    env: { PATH: process.env.PATH ?? '', TMPDIR: freshTmp(), ...env },
    encoding: 'utf8',
    // Node's own recursive mkdir never returns under /proc: a regression fails, not hangs.
    timeout: 60_000,
    ...options.user,
  });
  assert.equal(result.status, 0, `${result.error ?? ''}${result.stderr}`);
  const out = result.stdout.trim();
  if (!out.startsWith('{')) return { dir: out, stderr: result.stderr };
  return { dir: '', stderr: result.stderr, error: JSON.parse(out) as Located['error'] & object };
}

/** The one line said when the cache moves: where it was meant to be, why not, where it went. */
function fallbackLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  return lines[0] as string;
}

const HAS_PROC = existsSync('/proc/self');
const HAS_SYS_KERNEL = existsSync('/sys/kernel');

/**
 * Whether this machine lets the test mount a filesystem in a namespace of its own (unshare
 * -rm: a user namespace, so no privilege is needed where the kernel allows them).
 */
function canMountPrivately(): boolean {
  const dir = join(base, 'mount-check');
  mkdirSync(dir, { recursive: true });
  const result = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs tmpfs "$1"', 'sh', dir], {
    stdio: 'ignore',
  });
  return result.status === 0;
}

describe('the cache location', () => {
  it('is ~/.cache/tflite-fn for an installed package, never under node_modules, no probe file left', () => {
    const home = freshHome('home');
    const { dir, stderr } = installedCacheDir({ HOME: home });
    assert.equal(dir, join(home, '.cache', 'tflite-fn'));
    assert.equal(stderr, '');
    assert.deepEqual(readdirSync(dir), [], 'the folder was made, the probe file removed');
  });

  it('is $XDG_CACHE_HOME/tflite-fn when that is an absolute path (a relative one is ignored, as the XDG spec says)', () => {
    const home = freshHome('home');
    assert.equal(
      installedCacheDir({ HOME: home, XDG_CACHE_HOME: join(base, 'xdg') }).dir,
      join(base, 'xdg', 'tflite-fn'),
      'made when missing, as the spec says',
    );
    const relative = installedCacheDir({ HOME: home, XDG_CACHE_HOME: 'xdg' });
    assert.equal(relative.dir, join(home, '.cache', 'tflite-fn'));
    assert.equal(relative.stderr, '', 'ignored without a word');
  });

  it('is TFLITE_FN_CACHE_DIR when set, whatever else is there, made when missing', () => {
    const chosen = join(base, 'chosen', 'deeper');
    assert.equal(installedCacheDir({ HOME: '/proc', TFLITE_FN_CACHE_DIR: chosen }).dir, chosen);
    assert.ok(existsSync(chosen));
  });

  it('is the bundled .cache beside package.json when a deployment ships one', () => {
    mkdirSync(join(installed, '.cache'));
    try {
      assert.equal(installedCacheDir({ HOME: freshHome('home') }).dir, join(installed, '.cache'));
    } finally {
      rmSync(join(installed, '.cache'), { recursive: true });
    }
  });

  it('falls back to <tmp>/tflite-fn, said once on stderr, when the home cannot be written (Lambda, containers)', () => {
    const readOnly = freshHome('read-only-home');
    chmodSync(readOnly, 0o555);
    const tmp = freshTmp();
    const { dir, stderr } = installedCacheDir({ HOME: readOnly, TMPDIR: tmp }, { user: NOBODY });
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(
      fallbackLine(stderr),
      /^tflite-fn: cannot write the model cache .*read-only-home.* using .*tflite-fn \(set TFLITE_FN_CACHE_DIR/,
    );
  });

  it('falls back the same way when the home folder is not there to make (HOME under a file)', () => {
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const tmp = freshTmp();
    const { dir, stderr } = installedCacheDir({ HOME: join(file, 'home'), TMPDIR: tmp });
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(fallbackLine(stderr), /a-file is not a folder/);
  });

  it('falls back when HOME names a folder that does not exist, and does not make the home', () => {
    const missing = join(base, 'gone', 'home');
    const tmp = freshTmp();
    const { dir, stderr } = installedCacheDir({ HOME: missing, TMPDIR: tmp });
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(fallbackLine(stderr), /gone\/home.*the home folder does not exist/);
    assert.equal(existsSync(join(base, 'gone')), false);
  });

  it('falls back when HOME is empty: no home folder', () => {
    const tmp = freshTmp();
    const { dir, stderr } = installedCacheDir({ HOME: '', TMPDIR: tmp });
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(fallbackLine(stderr), /no home folder/);
  });

  it('falls back when HOME is unset and the user has no home (a uid without a passwd entry)', {
    skip: AS_ROOT ? false : 'needs root, to run as a uid no passwd entry names',
  }, () => {
    const tmp = freshTmp();
    const { dir, stderr } = installedCacheDir({ TMPDIR: tmp }, { user: { uid: 54321, gid: 54321 } });
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(fallbackLine(stderr), /no home folder/);
  });

  it('falls back from a home under /proc, where access() tells root it may write but nothing can be made', {
    skip: HAS_PROC ? false : 'no /proc here',
  }, () => {
    const tmp = freshTmp();
    const { dir, stderr } = installedCacheDir({ HOME: '/proc', TMPDIR: tmp });
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(fallbackLine(stderr), /cannot write the model cache \/proc\/\.cache\/tflite-fn \(/);
  });

  it('goes from an unwritable $XDG_CACHE_HOME (/sys/kernel) to ~/.cache/tflite-fn, saying so', {
    skip: HAS_SYS_KERNEL ? false : 'no /sys/kernel here',
  }, () => {
    const home = freshHome('home-after-xdg');
    const { dir, stderr } = installedCacheDir({ HOME: home, XDG_CACHE_HOME: '/sys/kernel' });
    assert.equal(dir, join(home, '.cache', 'tflite-fn'));
    const line = fallbackLine(stderr);
    assert.match(line, /^tflite-fn: cannot write the model cache \/sys\/kernel\/tflite-fn \(.+\); using /);
    assert.ok(line.includes(`using ${join(home, '.cache', 'tflite-fn')} `), line);
  });

  it('falls back from a home on a full disk, which access() calls writable', {
    skip: canMountPrivately() ? false : 'cannot mount a tmpfs in a namespace here (unshare -rm)',
  }, () => {
    const full = freshHome('full-home');
    const tmp = freshTmp();
    // A 16 KB tmpfs filled up, seen only by this process (it goes when the process ends).
    const { dir, stderr } = installedCacheDir(
      { HOME: full, TMPDIR: tmp },
      {
        wrap: (argv) => [
          'unshare',
          '-rm',
          'sh',
          '-c',
          'mount -t tmpfs -o size=16k tmpfs "$1" && { cat /dev/zero > "$1/fill" 2>/dev/null; shift; exec "$@"; }',
          'sh',
          full,
          ...argv,
        ],
      },
    );
    assert.equal(dir, join(tmp, 'tflite-fn'));
    assert.match(fallbackLine(stderr), /full-home.*no space left/);
  });

  it('TFLITE_FN_CACHE_DIR that cannot be written is an error naming it, not a fallback', () => {
    const file = join(base, 'another-file');
    writeFileSync(file, '');
    const named = join(file, 'cache');
    const { error, stderr } = installedCacheDir({ HOME: freshHome('home'), TFLITE_FN_CACHE_DIR: named });
    assert.equal(stderr, '', 'no fallback line');
    assert.equal(error?.code, 'cache_unwritable');
    assert.match(
      error?.line ?? '',
      /^TFLITE_FN_CACHE_DIR names a folder that cannot be written \(a part of its path is a file\)\. Fix: /,
    );
    assert.ok(error?.line.includes(named), 'the CLI says the path');
    assert.equal(error?.line.split('\n').length, 1);
    assert.doesNotMatch(JSON.stringify(error?.client), new RegExp(base), 'a client is not told host paths');
  });

  it('TFLITE_FN_CACHE_DIR under /proc (writable to root by access()) is that error too', {
    skip: HAS_PROC ? false : 'no /proc here',
  }, () => {
    const { error } = installedCacheDir({ HOME: freshHome('home'), TFLITE_FN_CACHE_DIR: '/proc/tflite-fn' });
    assert.equal(error?.code, 'cache_unwritable');
    assert.match(error?.line ?? '', /^TFLITE_FN_CACHE_DIR names a folder that cannot be written/);
  });

  it('nothing writable (home and temporary folder under /proc): one clear error listing what was tried', {
    skip: HAS_PROC ? false : 'no /proc here',
  }, () => {
    const { error, stderr } = installedCacheDir({
      HOME: '/proc',
      XDG_CACHE_HOME: '/proc/xdg',
      TMPDIR: '/proc',
    });
    assert.equal(stderr, '', 'no fallback line before the error');
    assert.equal(error?.code, 'cache_unwritable');
    assert.equal(error?.status, 500);
    const line = error?.line ?? '';
    assert.equal(line.split('\n').length, 1, line);
    assert.match(
      line,
      /^no folder for the model cache can be written: \$XDG_CACHE_HOME\/tflite-fn \(.+\), ~\/\.cache\/tflite-fn \(.+\), <tmp>\/tflite-fn \(.+\)\. Fix: set TFLITE_FN_CACHE_DIR to a writable folder/,
    );
    assert.doesNotMatch(JSON.stringify(error?.client), /\/proc/, 'a client is not told host paths');
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

  it('the CLI with a TFLITE_FN_CACHE_DIR that cannot be written: one line naming it and the path, exit 1, for a task and for models', async () => {
    const file = join(base, 'cli-file');
    writeFileSync(file, '');
    const named = join(file, 'cache');
    for (const args of [[], ['models']]) {
      const result = await runCli(args, photo('grace_hopper.jpg'), { TFLITE_FN_CACHE_DIR: named });
      assert.equal(result.status, 1, result.stderr);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0] as string,
        /^tflite-fn: (stdin: )?TFLITE_FN_CACHE_DIR names a folder that cannot be written \(a part of its path is a file\)\. Fix: .*\(.*cli-file\/cache\)$/,
      );
    }
  });

  it('tflite-fn serve and dev with a TFLITE_FN_CACHE_DIR that cannot be written stop at start-up with one line, instead of restarting workers that fail the same way', () => {
    const file = join(base, 'serve-file');
    writeFileSync(file, '');
    for (const args of [
      ['serve', '--workers', '1'],
      ['dev', '--platform', 'vercel'],
    ]) {
      const run = spawnSync(process.execPath, [CLI, ...args, '--port', '0'], {
        env: { ...process.env, TFLITE_FN_CACHE_DIR: join(file, 'cache') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.signal, null, `${args[0]} was still running after 60 s: ${run.stderr}`);
      assert.notEqual(run.status, 0, run.stdout);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(
        lines[0] as string,
        /^tflite-fn: TFLITE_FN_CACHE_DIR names a folder that cannot be written/,
      );
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
