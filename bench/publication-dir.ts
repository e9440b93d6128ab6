/**
 * Where benchmarks publish: docs/benchmarks in the package, or `--publish-dir DIR`, which also
 * lets a --quick run publish (marked quick) so tests prove publication without writing the
 * working tree. A command-line flag rather than a variable: it belongs to one run.
 */
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/store/paths.js';

function argumentAfter(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** Where pages and results go: --publish-dir, or docs/benchmarks in the package. */
export function publicationDir(): string {
  const given = argumentAfter('--publish-dir');
  return given ? resolve(given) : join(packageRoot(), 'docs', 'benchmarks');
}

/**
 * Whether this run publishes: a full run does; a --quick run only into a --publish-dir
 * (figures taken in a few rounds would otherwise replace real ones).
 */
export function publishing(): boolean {
  return !process.argv.includes('--quick') || argumentAfter('--publish-dir') !== undefined;
}
