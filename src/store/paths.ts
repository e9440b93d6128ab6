/**
 * Where tflite-fn keeps and looks for files. Every location can be moved by an environment
 * variable, because a Lambda layer, a container and a developer's clone lay files out
 * differently.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, MIRROR, MODELS, SHARED_DIR } from '../config/index.js';

let root: string | undefined;

/** The folder holding tflite-fn's package.json, found by walking up from this file. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tflite-fn'
    ) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`tflite-fn: cannot find its own package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function resolvedAll(folders: readonly string[] | undefined): string[] {
  return (folders ?? []).map((entry) => resolve(entry));
}

/**
 * A deployment's own cache: `.cache` beside package.json. Set-up writes it in a clone of this
 * repository (npm install's `postprepare`, which Vercel's and Netlify's builds run) and the Lambda layer
 * build writes it into the layer, so a function reads the models it ships with. An installed
 * package never has one (package.json `files` leaves it out): its cache is the user's.
 */
export function bundledCacheDir(root: string = packageRoot()): string {
  return join(root, '.cache');
}

/** The per-user cache: $XDG_CACHE_HOME/tflite-fn, else ~/.cache/tflite-fn ('' when there is no home). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec: a relative value is invalid and is ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'tflite-fn');
  let home = '';
  try {
    home = homedir();
  } catch {
    // No HOME and no passwd entry (some containers): treated as no home.
  }
  return home ? join(home, '.cache', 'tflite-fn') : '';
}

/** Why `dir` cannot be created or written, or undefined when it can (checked without writing). */
function unwritableReason(dir: string): string | undefined {
  if (!dir) return 'no home folder';
  let at = dir;
  while (!existsSync(at)) {
    const parent = dirname(at);
    if (parent === at) return 'no such folder';
    at = parent;
  }
  try {
    if (!statSync(at).isDirectory()) return `${at} is not a folder`;
    accessSync(at, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

let chosen: { key: string; dir: string } | undefined;

/**
 * The user's cache, or `<tmp>/tflite-fn` when it cannot be written (Lambda and many containers
 * have a read-only or missing home): said once on stderr, because files fetched there are
 * fetched again after the machine is recycled.
 */
function writableUserCacheDir(): string {
  const preferred = userCacheDir();
  if (chosen?.key === preferred) return chosen.dir;
  const reason = unwritableReason(preferred);
  let dir = preferred;
  if (reason) {
    dir = join(tmpdir(), 'tflite-fn');
    process.stderr.write(
      `tflite-fn: cannot write the model cache ${preferred || '(no home folder)'} (${reason}); using ${dir} (set TFLITE_FN_CACHE_DIR to choose)\n`,
    );
  }
  chosen = { key: preferred, dir };
  return dir;
}

/**
 * Fetched files live here: `models/` for models and labels, `samples/` for photos, `onnx/` for
 * conversions. TFLITE_FN_CACHE_DIR wins; else a deployment's bundled cache when there is one;
 * else the user's cache ($XDG_CACHE_HOME/tflite-fn or ~/.cache/tflite-fn), never a folder
 * under node_modules, which every install of the package would replace.
 */
export function cacheDir(): string {
  const configured = CACHE_DIR.read();
  if (configured) return resolve(configured);
  const bundled = bundledCacheDir();
  if (existsSync(bundled)) return bundled;
  return writableUserCacheDir();
}

export function modelCacheDir(): string {
  return join(cacheDir(), 'models');
}

export function sampleCacheDir(): string {
  return join(cacheDir(), 'samples');
}

/** The built-in model descriptors shipped with the package. */
export function builtinDescriptorDir(): string {
  return join(packageRoot(), 'models');
}

/** Extra descriptor folders named by TFLITE_FN_MODELS (a PATH-style list). */
export function extraDescriptorDirs(): string[] {
  return resolvedAll(MODELS.read());
}

/**
 * The read-only data folder our CI and development machines provide (models, photos, the
 * ImageNet sample): TFLITE_FN_SHARED_DIR, else `shared/` beside the project. Tests and
 * benchmarks read their photos from it; set-up uses it as a mirror when offline.
 */
export function sharedDataDir(): string {
  return resolve(SHARED_DIR.read() ?? join(packageRoot(), '..', 'shared'));
}

/**
 * Folders that may hold copies of upstream files, used when the network is not there.
 * TFLITE_FN_MIRROR (a PATH-style list) wins; otherwise the shared data folder (how our CI
 * machines provide them) is used when present.
 */
export function mirrorDirs(): string[] {
  const configured = resolvedAll(MIRROR.read());
  if (configured.length > 0) return configured;
  const shared = sharedDataDir();
  return [join(shared, 'models'), join(shared, 'images'), join(shared, 'imagenet-sample')].filter((dir) =>
    existsSync(dir),
  );
}
