/**
 * Set-up: fetch every pinned file the catalog's models need, plus the sample photos, into the
 * cache. Safe to run again: files already present with the right hash are left alone.
 */
import { ModelCatalog } from '../model/catalog.js';
import { filesOf } from '../model/descriptor.js';
import { ensurePinnedFile, type FetchSource, type PinnedFile } from './fetch.js';
import { mirrorDirs, modelCacheDir, sampleCacheDir } from './paths.js';
import { SAMPLE_PHOTOS, VERIFICATION_PHOTOS } from './samples.js';

export interface SetupOptions {
  readonly catalog?: ModelCatalog;
  readonly offline?: boolean;
  readonly quiet?: boolean;
  /** Called after each file, for the CLI to print a line. */
  readonly onFile?: (name: string, source: FetchSource, path: string) => void;
}

export interface SetupReport {
  readonly files: { name: string; source: FetchSource; path: string }[];
}

/** Files with a pin (sha256) and no copy beside their descriptor need fetching. */
function pinnedModelFiles(catalog: ModelCatalog): PinnedFile[] {
  const files = new Map<string, PinnedFile>();
  for (const entry of catalog.entries()) {
    if (!entry.descriptor) continue;
    for (const ref of filesOf(entry.descriptor)) {
      // npm: files come with `npm install`, not from set-up.
      if (!ref.sha256 || ref.file.startsWith('npm:')) continue;
      files.set(ref.file, { name: ref.file, sha256: ref.sha256, url: ref.url });
    }
  }
  return [...files.values()];
}

function uniqueByName(files: readonly PinnedFile[]): PinnedFile[] {
  return [...new Map(files.map((file) => [file.name, file])).values()];
}

export async function setup(options: SetupOptions = {}): Promise<SetupReport> {
  const catalog = options.catalog ?? new ModelCatalog({ warmUp: false });
  const mirrors = mirrorDirs();
  const common = { mirrors, offline: options.offline ?? false, quiet: options.quiet ?? false };
  const jobs: { file: PinnedFile; dir: string }[] = [
    ...pinnedModelFiles(catalog).map((file) => ({ file, dir: modelCacheDir() })),
    ...uniqueByName([...SAMPLE_PHOTOS, ...VERIFICATION_PHOTOS.classify, ...VERIFICATION_PHOTOS.detect]).map(
      (file) => ({ file, dir: sampleCacheDir() }),
    ),
  ];
  const report: SetupReport = { files: [] };
  for (const { file, dir } of jobs) {
    const { path, source } = await ensurePinnedFile(file, { ...common, dir });
    report.files.push({ name: file.name, source, path });
    options.onFile?.(file.name, source, path);
  }
  return report;
}
