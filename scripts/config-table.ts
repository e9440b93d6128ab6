/**
 * `npm run docs:config`: writes docs/reference.md's table of TFLITE_FN_* variables from their
 * declarations (src/config/variables.ts). `--check` only says whether it differs, and exits 1
 * if it does; test/config.test.ts fails while it differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTable } from '../src/config/table.js';
import { packageRoot } from '../src/store/paths.js';

const REFERENCE = 'docs/reference.md';

const path = join(packageRoot(), REFERENCE);
const current = readFileSync(path, 'utf8');
const wanted = withConfigTable(current);
if (wanted === current) console.log(`${REFERENCE}: the configuration table matches src/config/variables.ts`);
else if (process.argv.includes('--check')) {
  console.log(
    `${REFERENCE}: the configuration table differs from src/config/variables.ts: run npm run docs:config`,
  );
  process.exitCode = 1;
} else {
  writeFileSync(path, wanted);
  console.log(`${REFERENCE}: configuration table written from src/config/variables.ts`);
}
