import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAST_TEST_FILES } from './suites.js';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('test suites (npm run test:fast is a named part of npm test)', () => {
  it('every file the fast suite names is a test file the full suite runs', () => {
    const missing = FAST_TEST_FILES.filter(
      (name) => !name.endsWith('.test.js') || !existsSync(join(here, name)),
    );
    assert.deepEqual(missing, []);
  });

  it('names each file once', () => {
    assert.equal(new Set(FAST_TEST_FILES).size, FAST_TEST_FILES.length);
  });
});
