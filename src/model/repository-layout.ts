/**
 * Reading a model repository's folders: the Triton/KServe layout
 *
 *   DIR/<name>/config.yaml            optional descriptor (see repository-config.ts)
 *   DIR/<name>/<labels and other files the config names>
 *   DIR/<name>/<version>/model.tflite version = a positive integer folder name
 *
 * Everything in DIR is untrusted (it may be a shared volume other people write to). So: names
 * are restricted to a safe charset (they end up in URLs, logs and messages), every path is
 * resolved with its links followed and must stay inside DIR, and a model file must be a regular
 * file. Nothing is read here: a scan only stats, so a poll costs a few syscalls per file.
 * What a scan finds wrong with a version becomes that version's reason; messages name files
 * relative to DIR, never host paths (they reach HTTP clients).
 */
import type { Stats } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** Model names: what Triton accepts in practice, minus anything a path or a URL would mangle. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Versions: positive integers, no leading zero (so '01' and '1' cannot both exist), exact in a double. */
export const VERSION_NAME = /^[1-9][0-9]{0,14}$/;
export const MODEL_FILE = 'model.tflite';
export const CONFIG_FILE = 'config.yaml';
/** Files of a model folder tracked for changes (config, labels): a folder of thousands is not a model. */
const MAX_MODEL_FOLDER_FILES = 64;
/**
 * Bounds on what one poll looks at, so a folder filled with entries (by mistake or not) costs a
 * bounded number of syscalls twice a second: entries read per folder, models, versions per
 * model (the newest are kept), and refusals reported one by one.
 */
export const SCAN_LIMITS = { entries: 10_000, models: 1_000, versions: 100, refusals: 20 } as const;

/** What identifies a file's content cheaply: a change in any of these means "read it again". */
export interface FileStamp {
  /** The file with every link followed (inside DIR). */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export type Found<T> = { readonly ok: T } | { readonly problem: string };

export interface VersionScan {
  readonly version: string;
  readonly model: Found<FileStamp>;
}

export interface ModelScan {
  readonly name: string;
  /** The repository folder with its links followed (what every path must stay inside). */
  readonly root: string;
  /** The model folder with its links followed. */
  readonly folder: string;
  /** The regular files directly in the model folder (config, labels), by name. */
  readonly files: ReadonlyMap<string, FileStamp>;
  readonly versions: readonly VersionScan[];
}

export interface RepositoryScan {
  readonly models: readonly ModelScan[];
  /** Entries refused (hostile names, links out of DIR), for the log; not served. */
  readonly refused: readonly string[];
}

function stampOf(path: string, stats: Stats): FileStamp {
  return { path, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
}

/** A stamp as one comparable string. */
export function stampKey(stamp: FileStamp | undefined): string {
  return stamp ? `${stamp.path}:${stamp.size}:${stamp.mtimeMs}:${stamp.ino}` : '-';
}

function inside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** `path` with its links followed, if it exists and stays inside `root`; else why not. */
async function resolveInside(root: string, path: string, shown: string): Promise<Found<string>> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? `${shown} is missing` : `${shown} cannot be read (${code})` };
  }
  if (!inside(root, real)) return { problem: `${shown} is a link to a place outside the model repository` };
  return { ok: real };
}

/** A regular file inside root, stamped; devices, pipes and folders are refused. */
export async function stampFile(root: string, path: string, shown: string): Promise<Found<FileStamp>> {
  const resolved = await resolveInside(root, path, shown);
  if ('problem' in resolved) return resolved;
  try {
    const stats = await stat(resolved.ok);
    if (!stats.isFile()) return { problem: `${shown} is not a regular file` };
    return { ok: stampOf(resolved.ok, stats) };
  } catch (error) {
    return { problem: `${shown} cannot be read (${(error as NodeJS.ErrnoException).code})` };
  }
}

/** A folder's entry names, sorted, at most SCAN_LIMITS.entries of them. */
async function entriesOf(folder: string): Promise<string[]> {
  const names: string[] = [];
  try {
    const listing = await opendir(folder);
    for await (const entry of listing) {
      names.push(entry.name);
      if (names.length >= SCAN_LIMITS.entries) break; // leaving the loop closes the listing
    }
  } catch {
    return [];
  }
  return names.sort();
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function scanModel(root: string, name: string, refused: string[]): Promise<ModelScan | undefined> {
  const folder = await resolveInside(root, join(root, name), name);
  if ('problem' in folder) {
    refused.push(folder.problem);
    return undefined;
  }
  if (!(await isFolder(folder.ok))) return undefined; // a README beside the models
  const files = new Map<string, FileStamp>();
  const versions: VersionScan[] = [];
  const entries = await entriesOf(folder.ok);
  const newest = entries.filter((entry) => VERSION_NAME.test(entry)).sort((a, b) => Number(b) - Number(a));
  if (newest.length > SCAN_LIMITS.versions)
    refused.push(`${name} has ${newest.length} versions; only the newest ${SCAN_LIMITS.versions} are served`);
  const served = new Set(newest.slice(0, SCAN_LIMITS.versions));
  for (const entry of entries) {
    const path = join(folder.ok, entry);
    if (VERSION_NAME.test(entry)) {
      if (!served.has(entry)) continue;
      const shown = `${name}/${entry}/${MODEL_FILE}`;
      const versionFolder = await resolveInside(root, path, `${name}/${entry}`);
      if ('problem' in versionFolder) {
        versions.push({ version: entry, model: versionFolder });
        continue;
      }
      if (!(await isFolder(versionFolder.ok))) continue;
      versions.push({
        version: entry,
        model: await stampFile(root, join(versionFolder.ok, MODEL_FILE), shown),
      });
    } else if (files.size < MAX_MODEL_FOLDER_FILES) {
      const file = await stampFile(root, path, `${name}/${entry}`);
      if ('ok' in file) files.set(entry, file.ok);
    }
  }
  versions.sort((a, b) => Number(a.version) - Number(b.version));
  return { name, root, folder: folder.ok, files, versions };
}

/**
 * Lists DIR: every model folder with a safe name, its versions (oldest first) and its own
 * files, stamped. Hidden entries (.git, editors' temporary files) are skipped silently; other
 * names outside the charset are refused and reported.
 */
export async function scanRepository(dir: string): Promise<RepositoryScan> {
  const root = await realpath(dir);
  const refused: string[] = [];
  const models: ModelScan[] = [];
  let badNames = 0;
  for (const name of await entriesOf(root)) {
    if (name.startsWith('.')) continue;
    if (!MODEL_NAME.test(name)) {
      // Quoted as JSON: a name may hold newlines or control characters meant for a log.
      if (++badNames <= SCAN_LIMITS.refusals)
        refused.push(
          `${JSON.stringify(name.slice(0, 80))} is not a model name (letters, digits, '.', '_', '-'; at most 64)`,
        );
      continue;
    }
    if (models.length >= SCAN_LIMITS.models) {
      refused.push(`more than ${SCAN_LIMITS.models} models; the rest (from '${name}' on) are not served`);
      break;
    }
    const model = await scanModel(root, name, refused);
    if (model) models.push(model);
  }
  if (badNames > SCAN_LIMITS.refusals)
    refused.push(`${badNames - SCAN_LIMITS.refusals} more entries are not model names`);
  return { models, refused };
}
