/**
 * `npm test`: node's test runner over every compiled test file, with the model cache copied to
 * a temporary folder first (TFLITE_FN_CACHE_DIR, inherited by every test process and every
 * process a test starts). Some tests convert models again (`tflite-fn convert`, forced
 * conversions, verification on both int8 kernel paths) and would otherwise rewrite the clone's
 * .cache: tests write only to temporary folders, and `.ci/run` checks that the tree is unchanged.
 * `--fast` runs only the files test/suites.ts names (`npm run test:fast`); other arguments are
 * passed on to `node --test` (e.g. --test-name-pattern).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../src/store/paths.js';
import { FAST_TEST_FILES } from './suites.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const files = fast
  ? FAST_TEST_FILES.map((name) => join(here, name))
  : [here, join(here, 'platforms')].flatMap((dir) =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.test.js'))
        .sort()
        .map((name) => join(dir, name)),
    );
const cache = join(mkdtempSync(join(tmpdir(), 'tflite-fn-test-cache-')), 'cache');
if (existsSync(cacheDir())) cpSync(cacheDir(), cache, { recursive: true });
const run = spawnSync(process.execPath, ['--test', ...args.filter((arg) => arg !== '--fast'), ...files], {
  stdio: 'inherit',
  env: { ...process.env, TFLITE_FN_CACHE_DIR: cache },
});
rmSync(join(cache, '..'), { recursive: true, force: true });
process.exitCode = run.status ?? 1;
