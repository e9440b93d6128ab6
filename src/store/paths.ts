/**
 * Where tflite-fn keeps and looks for files. Every location can be moved by an environment
 * variable, because a Lambda layer, a container and a developer's clone lay files out
 * differently.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, MIRROR, MODELS, SHARED_DIR } from '../config/index.js';
import { TfliteFnError } from '../errors.js';
import { withHostPath } from '../model/model-file.js';
import { type Unwritable, whyUnwritable } from './writable-folder.js';

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

/** A place the cache may go, in the order they are tried. */
interface CacheCandidate {
  /** '' when there is none (no home folder). */
  readonly dir: string;
  /** How a message names it without a host path. */
  readonly named: string;
  /** Why it is ruled out before trying it. */
  readonly ruledOut?: Unwritable | undefined;
}

/**
 * The per-user cache folders, in order: $XDG_CACHE_HOME/tflite-fn when that is an absolute
 * path (the XDG spec: a relative one is ignored), then ~/.cache/tflite-fn, whose home folder
 * must exist (a cache does not make a missing home; HOME=/nonexistent is how some system
 * users say they have none).
 */
function userCacheCandidates(): CacheCandidate[] {
  const candidates: CacheCandidate[] = [];
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg))
    candidates.push({ dir: join(xdg, 'tflite-fn'), named: '$XDG_CACHE_HOME/tflite-fn' });
  const named = '~/.cache/tflite-fn';
  let home = '';
  try {
    // HOME, else (unset) the passwd entry's home; '' when HOME is set empty.
    home = homedir();
  } catch {
    // HOME unset and no passwd entry (a container's arbitrary uid).
  }
  if (!home) {
    const none = { reason: 'no home folder', detail: 'no home folder' };
    candidates.push({ dir: '', named, ruledOut: none });
  } else candidates.push({ dir: join(home, '.cache', 'tflite-fn'), named, ruledOut: homeProblem(home) });
  return candidates;
}

/** Why the home folder cannot hold ~/.cache/tflite-fn without being made, or undefined. */
function homeProblem(home: string): Unwritable | undefined {
  try {
    if (statSync(home).isDirectory()) return undefined;
    return { reason: 'the home folder is a file', detail: `${home} is not a folder` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // HOME under a file: whyUnwritable names the file.
    if (code === 'ENOTDIR') return whyUnwritable(join(home, '.cache', 'tflite-fn'));
    const reason =
      code === 'ENOENT' ? 'the home folder does not exist' : `the home folder cannot be read (${code})`;
    return { reason, detail: reason };
  }
}

const said = new Set<string>();
let chosen: { key: string; dir: string } | undefined;

/**
 * The first per-user cache folder that can be written, else `<tmp>/tflite-fn` (Lambda and many
 * containers have a read-only or missing home), said once on stderr with why, because files
 * fetched there are fetched again after the machine is recycled. Nothing writable at all is an
 * error that lists what was tried.
 */
function writableUserCacheDir(): string {
  // Asked on every model load: decided again only when what it depends on changed.
  const key = [process.env.XDG_CACHE_HOME, process.env.HOME, tmpdir()].join('\0');
  if (chosen?.key === key) return chosen.dir;
  const dir = firstWritableUserCacheDir();
  chosen = { key, dir };
  return dir;
}

function firstWritableUserCacheDir(): string {
  const candidates = [
    ...userCacheCandidates(),
    { dir: join(tmpdir(), 'tflite-fn'), named: '<tmp>/tflite-fn' },
  ];
  const failed: { candidate: CacheCandidate; why: Unwritable }[] = [];
  for (const candidate of candidates) {
    const why = candidate.ruledOut ?? whyUnwritable(candidate.dir);
    if (!why) {
      if (failed.length > 0) sayOnce(failed, candidate.dir);
      return candidate.dir;
    }
    failed.push({ candidate, why });
  }
  throw new TfliteFnError(
    500,
    'cache_unwritable',
    `no folder for the model cache can be written: ${failed.map(({ candidate, why }) => `${candidate.named} (${why.reason})`).join(', ')}. Fix: set ${CACHE_DIR.name} to a writable folder`,
    {
      expose: true,
      cause: new Error(
        failed.map(({ candidate, why }) => `${candidate.dir || candidate.named}: ${why.detail}`).join('; '),
      ),
    },
  );
}

function sayOnce(failed: readonly { candidate: CacheCandidate; why: Unwritable }[], chosen: string): void {
  const tried = failed
    .map(({ candidate, why }) => `${candidate.dir || candidate.named} (${why.detail})`)
    .join(', nor ');
  const line = `tflite-fn: cannot write the model cache ${tried}; using ${chosen} (set ${CACHE_DIR.name} to choose)\n`;
  if (said.has(line)) return;
  said.add(line);
  process.stderr.write(line);
}

/**
 * TFLITE_FN_CACHE_DIR, made when missing. The operator chose it, so a folder that cannot be
 * written is an error naming the variable, never a quiet move elsewhere. (A prepared read-only
 * cache ships as the bundled `.cache`, which is only read.)
 */
function configuredCacheDir(configured: string): string {
  const dir = resolve(configured);
  const why = whyUnwritable(dir);
  if (!why) return dir;
  throw new TfliteFnError(
    500,
    'cache_unwritable',
    `${CACHE_DIR.name} names a folder that cannot be written (${why.reason}). Fix: point ${CACHE_DIR.name} at a folder this user can write, or unset it to use the per-user cache`,
    { expose: true, cause: withHostPath(why.detail, dir) },
  );
}

/**
 * Fetched files live here: `models/` for models and labels, `samples/` for photos, `onnx/` for
 * conversions. TFLITE_FN_CACHE_DIR wins; else a deployment's bundled cache when there is one
 * (read as it is: on Lambda it is in the read-only layer); else the user's cache
 * ($XDG_CACHE_HOME/tflite-fn, ~/.cache/tflite-fn, `<tmp>/tflite-fn`: the first that can be
 * written), never a folder under node_modules, which every install of the package would replace.
 * Throws a TfliteFnError (cache_unwritable) when the chosen or every folder cannot be written.
 */
export function cacheDir(): string {
  const configured = CACHE_DIR.read();
  if (configured) return configuredCacheDir(configured);
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
