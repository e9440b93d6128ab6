/**
 * `npm run routes:sync`: writes the platform configs' route lists from the route table (see
 * scripts/platform-routes.ts). `--check` only says which files differ, and exits 1 if any do;
 * `--warn` (run by `npm run build`) says so on stderr and exits 0, so a task added to TASKS
 * without its platform routes is noticed at the next build, not only by test/routes.test.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../src/store/paths.js';
import { stalePlatformFiles } from './platform-routes.js';

const root = packageRoot();
const check = process.argv.includes('--check');
const warn = process.argv.includes('--warn');
const stale = stalePlatformFiles(root);
if (warn) {
  if (stale.length > 0)
    console.error(
      `warning: ${stale.map((file) => file.path).join(', ')} differ from the route table: run npm run routes:sync`,
    );
  process.exit(0);
}
for (const file of stale) {
  const path = join(root, file.path);
  if (check) {
    console.log(`${file.path}: differs from the route table`);
  } else if (file.text === undefined) {
    rmSync(path);
    console.log(`${file.path}: removed (no such route in the table)`);
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
    console.log(`${file.path}: written from the route table`);
  }
}
if (stale.length === 0) console.log('platform configs match the route table');
else if (check) process.exitCode = 1;
