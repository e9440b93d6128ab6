/**
 * First use without set-up: a pinned model file (sha256) that is not in the cache yet is
 * fetched there as set-up would fetch it (upstream, else a mirror folder, verified by sha256),
 * with a line on stderr saying so, so that an installed package answers from its first call.
 * Fetched only when a file is about to be read: a deployment that ships some files and not
 * others (Netlify's converted models without their .tflite) fetches nothing it does not read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePinnedFile, type PinnedFile } from './fetch.js';
import { mirrorDirs, modelCacheDir, sampleCacheDir } from './paths.js';

export interface FetchableRef {
  readonly file: string;
  readonly sha256?: string | undefined;
  readonly url?: string | undefined;
}

/** One fetch per file per process, however many loads ask for it at once. */
const pending = new Map<string, Promise<void>>();

/**
 * Fetches `ref` when it is missing at `path` and `path` is its place in the cache folder `dir`
 * (models by default; the sample photos live in their own). A failure is
 * told on stderr with everything that was tried (host paths: for the operator only); the
 * caller's read then fails with its usual message, which names no host path.
 */
export function fetchOnFirstUse(
  ref: FetchableRef,
  path: string,
  dir: string = modelCacheDir(),
): Promise<void> {
  const { sha256 } = ref;
  if (!sha256 || ref.file.startsWith('npm:') || path !== join(dir, ref.file) || existsSync(path))
    return Promise.resolve();
  let fetching = pending.get(path);
  if (!fetching) {
    process.stderr.write(`tflite-fn: first use of ${ref.file}: fetching it into ${dir}\n`);
    fetching = ensurePinnedFile({ name: ref.file, sha256, url: ref.url }, { dir, mirrors: mirrorDirs() })
      .then(({ source }) => {
        process.stderr.write(
          `tflite-fn: ${ref.file} ${source === 'mirror' ? 'copied from a mirror' : 'fetched'}, sha256 verified\n`,
        );
      })
      .catch((error: unknown) => {
        process.stderr.write(`tflite-fn: ${error instanceof Error ? error.message : String(error)}\n`);
      })
      .finally(() => pending.delete(path));
    pending.set(path, fetching);
  }
  return fetching;
}

/** A sample photo's path in the cache, fetched first when it is not there yet (see above). */
export async function sampleOnFirstUse(photo: PinnedFile): Promise<string> {
  const dir = sampleCacheDir();
  const path = join(dir, photo.name);
  await fetchOnFirstUse({ file: photo.name, sha256: photo.sha256, url: photo.url }, path, dir);
  return path;
}
