/**
 * Fetching pinned files: from their public upstream when the network is there, else from a
 * local mirror folder, always verified by sha256. What was tried is reported when all fails,
 * with the command that fixes it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TfliteFnError } from '../errors.js';
import { createProgress } from '../util/progress.js';

export interface PinnedFile {
  /** File name, the same upstream, in the mirror and in the cache. */
  readonly name: string;
  readonly sha256: string;
  readonly url?: string | undefined;
}

export interface FetchOptions {
  /** Folder the file must end up in. */
  readonly dir: string;
  /** Folders to copy from when the upstream cannot be reached. */
  readonly mirrors: readonly string[];
  /** Skip the upstream and use mirrors only. */
  readonly offline?: boolean;
  readonly quiet?: boolean;
  readonly timeoutMs?: number;
}

export type FetchSource = 'cache' | 'upstream' | 'mirror';

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function download(
  file: PinnedFile & { url: string },
  temp: string,
  options: FetchOptions,
): Promise<void> {
  const response = await fetch(file.url, {
    signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    redirect: 'follow',
  });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  const progress = createProgress(`  ${file.name}`, total, { unit: 'bytes', quiet: options.quiet ?? false });
  let received = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    progress.update(received);
  });
  await pipeline(body, createWriteStream(temp));
  progress.finish();
}

/**
 * Makes sure `file` is in `options.dir` with the right hash. Returns where it came from.
 * Writes go to a temporary name first, so an interrupted download never leaves a file that
 * looks complete.
 */
export async function ensurePinnedFile(
  file: PinnedFile,
  options: FetchOptions,
): Promise<{ path: string; source: FetchSource }> {
  const path = join(options.dir, file.name);
  if ((await exists(path)) && (await sha256OfFile(path)) === file.sha256) return { path, source: 'cache' };

  try {
    await mkdir(options.dir, { recursive: true });
  } catch (error) {
    throw new TfliteFnError(
      500,
      'cache_unwritable',
      `cannot create the cache folder ${options.dir} (${describe(error)}). Fix: set TFLITE_FN_CACHE_DIR to a writable folder`,
      { expose: false },
    );
  }
  // Unique per call: two loads in one process may fetch the same file at once.
  const temp = `${path}.partial-${process.pid}-${randomUUID()}`;
  const tried: string[] = [];
  const accept = async (source: FetchSource) => {
    const actual = await sha256OfFile(temp);
    if (actual !== file.sha256) throw new Error(`sha256 mismatch: expected ${file.sha256}, got ${actual}`);
    await rename(temp, path);
    return { path, source };
  };

  if (file.url && !options.offline) {
    try {
      await download({ ...file, url: file.url }, temp, options);
      return await accept('upstream');
    } catch (error) {
      tried.push(`download ${file.url}: ${describe(error)}`);
    }
  }
  for (const mirror of options.mirrors) {
    const candidate = join(mirror, file.name);
    if (!(await exists(candidate))) {
      tried.push(`mirror ${candidate}: not there`);
      continue;
    }
    try {
      await copyFile(candidate, temp);
      return await accept('mirror');
    } catch (error) {
      tried.push(`mirror ${candidate}: ${describe(error)}`);
    }
  }
  await rm(temp, { force: true });
  if (options.mirrors.length === 0) tried.push('no mirror folder configured (TFLITE_FN_MIRROR)');
  throw new TfliteFnError(
    500,
    'fetch_failed',
    `could not get ${file.name}; tried:\n  ${tried.join('\n  ')}\nFix: connect to the network and run \`npx tflite-fn setup\`, or put the file in a folder and run \`TFLITE_FN_MIRROR=/that/folder npx tflite-fn setup\``,
    { expose: true },
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
