/**
 * Where tflite-fn keeps and looks for files. Every location can be moved by an environment
 * variable, because a Lambda layer, a container and a developer's clone lay files out
 * differently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function pathList(value: string | undefined): string[] {
  return (value ?? '')
    .split(delimiter)
    .filter((entry) => entry.length > 0)
    .map((entry) => resolve(entry));
}

/** Fetched files live here: `models/` for models and labels, `samples/` for photos. */
export function cacheDir(): string {
  return resolve(process.env.TFLITE_FN_CACHE_DIR ?? join(packageRoot(), '.cache'));
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
  return pathList(process.env.TFLITE_FN_MODELS);
}

/**
 * The read-only data folder our CI and development machines provide (models, photos, the
 * ImageNet sample): TFLITE_FN_SHARED_DIR, else `shared/` beside the project. Tests and
 * benchmarks read their photos from it; set-up uses it as a mirror when offline.
 */
export function sharedDataDir(): string {
  return resolve(process.env.TFLITE_FN_SHARED_DIR ?? join(packageRoot(), '..', 'shared'));
}

/**
 * Folders that may hold copies of upstream files, used when the network is not there.
 * TFLITE_FN_MIRROR (a PATH-style list) wins; otherwise the shared data folder (how our CI
 * machines provide them) is used when present.
 */
export function mirrorDirs(): string[] {
  const configured = pathList(process.env.TFLITE_FN_MIRROR);
  if (configured.length > 0) return configured;
  const shared = sharedDataDir();
  return [join(shared, 'models'), join(shared, 'images'), join(shared, 'imagenet-sample')].filter((dir) =>
    existsSync(dir),
  );
}
