/**
 * A function package against its platform's size limit, checked where it is built, so a
 * deployment that would be refused fails there with one line saying why, not at upload (or
 * not at all on a local build, which enforces nothing). The models of a shipped model
 * repository count like every other file: the line says how much of the total they are.
 *
 * Netlify: its build runs netlify/plugins/function-size after bundling the function (the zip
 * counts). Lambda: `npm run layer` checks the layer and the repository the function package
 * ships, unzipped together (what Lambda counts), once the layer is built.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Netlify refuses a function whose zip is over 50 MB. */
export const NETLIFY_FUNCTION_LIMIT_BYTES = 50 * 1024 * 1024;
/** Lambda refuses a function whose files and layers' files, unzipped, are over 250 MB. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** A folder walk stops past this many entries: a size for a message, not an inventory. */
const MAX_ENTRIES = 100_000;

/** 52.3 MB; a whole number of MB as such (50 MB). */
function mb(bytes: number): string {
  const value = bytes / 1024 / 1024;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MB`;
}

/** The bytes of the regular files under `dir` (links not followed); 0 when it is not there. */
export function folderBytes(dir: string): number {
  let total = 0;
  let seen = 0;
  const walk = (folder: string): void => {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of names) {
      if (++seen > MAX_ENTRIES) return;
      const path = join(folder, name);
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(path);
      else if (stat?.isFile()) total += stat.size;
    }
  };
  walk(dir);
  return total;
}

export interface FunctionPackage {
  /** Whose limit it is: "Netlify". */
  readonly platform: string;
  /** What was measured, for the message: "function classify (zipped)". */
  readonly what: string;
  readonly bytes: number;
  readonly limitBytes: number;
  /** The model repository the package ships: its folder in the project, and its bytes. */
  readonly repository?: { readonly folder: string; readonly bytes: number };
}

/** The one line a build fails with when the package is over its limit; undefined when it fits. */
export function functionSizeProblem(pkg: FunctionPackage): string | undefined {
  if (pkg.bytes <= pkg.limitBytes) return undefined;
  const repository =
    pkg.repository && pkg.repository.bytes > 0
      ? `; the model repository ${pkg.repository.folder}/ is ${mb(pkg.repository.bytes)} of it (ship fewer models or versions, e.g. versions: { latest: 1 } in a model's config.yaml)`
      : '';
  return `the ${pkg.platform} ${pkg.what} is ${mb(pkg.bytes)}, over ${pkg.platform}'s limit of ${mb(pkg.limitBytes)}${repository}`;
}

/** A package over its platform's limit; the message is the one line (functionSizeProblem). */
export class PackageTooLargeError extends Error {}

/** Throws PackageTooLargeError when the package is over its limit. */
export function assertPackageFits(pkg: FunctionPackage): void {
  const problem = functionSizeProblem(pkg);
  if (problem) throw new PackageTooLargeError(problem);
}
