/**
 * A function package against its platform's size limit (scripts/function-size.ts): the check
 * Netlify's build runs after bundling (netlify/plugins/function-size; the build itself is tested
 * in test/platforms/netlify.test.ts) and the one `npm run layer` runs on the layer and the model
 * repository it is built for: one line naming the size, the limit and the repository's part.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkUnzippedSize } from '../layers/build.js';
import {
  folderBytes,
  functionSizeProblem,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
  NETLIFY_FUNCTION_LIMIT_BYTES,
  PackageTooLargeError,
} from '../scripts/function-size.js';

const MB = 1024 * 1024;

describe('function package size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-function-size-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("counts a repository's files (links not followed), 0 for a folder that is not there", () => {
    mkdirSync(join(dir, 'flowers', '1'), { recursive: true });
    writeFileSync(join(dir, 'flowers', 'config.yaml'), 'x'.repeat(100));
    writeFileSync(join(dir, 'flowers', '1', 'model.tflite'), new Uint8Array(3 * MB));
    symlinkSync(join(dir, 'flowers', '1', 'model.tflite'), join(dir, 'flowers', 'link.tflite'));
    assert.equal(folderBytes(dir), 3 * MB + 100);
    assert.equal(folderBytes(join(dir, 'none')), 0);
  });

  it('is quiet when the package fits; over the limit, one line with the total, the limit and the repository', () => {
    const netlify = {
      platform: 'Netlify',
      what: 'function classify (zipped)',
      limitBytes: NETLIFY_FUNCTION_LIMIT_BYTES,
    };
    assert.equal(NETLIFY_FUNCTION_LIMIT_BYTES, 50 * MB);
    assert.equal(functionSizeProblem({ ...netlify, bytes: 50 * MB }), undefined);
    const over = functionSizeProblem({
      ...netlify,
      bytes: 52.34 * MB,
      repository: { folder: 'model-repository', bytes: 6.5 * MB },
    });
    assert.equal(
      over,
      "the Netlify function classify (zipped) is 52.3 MB, over Netlify's limit of 50 MB; the model repository model-repository/ is 6.5 MB of it (ship fewer models or versions, e.g. versions: { latest: 1 } in a model's config.yaml)",
    );
    assert.doesNotMatch(over ?? '', /\n/);
    const withoutRepository = functionSizeProblem({
      ...netlify,
      bytes: 51 * MB,
      repository: { folder: 'model-repository', bytes: 0 },
    });
    assert.equal(
      withoutRepository,
      "the Netlify function classify (zipped) is 51 MB, over Netlify's limit of 50 MB",
    );
  });

  it("npm run layer: the layer and the repository the function ships, unzipped, against Lambda's 250 MB", () => {
    // Sparse files: their size counts, no disk is spent.
    const layer = join(dir, 'x86_64');
    mkdirSync(join(layer, 'nodejs'), { recursive: true });
    const sized = (path: string, bytes: number) => {
      writeFileSync(path, '');
      truncateSync(path, bytes);
    };
    sized(join(layer, 'nodejs', 'core.bin'), 200 * MB);
    const repository = join(dir, 'model-repository');
    mkdirSync(join(repository, 'big', '1'), { recursive: true });
    sized(join(repository, 'big', '1', 'model.tflite'), 40 * MB);
    assert.equal(LAMBDA_UNZIPPED_LIMIT_BYTES, 250 * MB);
    checkUnzippedSize(layer, repository); // 240 MB: fits
    sized(join(repository, 'big', '1', 'model.tflite'), 60 * MB);
    assert.throws(
      () => checkUnzippedSize(layer, repository),
      (error: unknown) =>
        error instanceof PackageTooLargeError &&
        error.message ===
          "the Lambda layer x86_64 with the model repository (unzipped) is 260 MB, over Lambda's limit of 250 MB; the model repository model-repository/ is 60 MB of it (ship fewer models or versions, e.g. versions: { latest: 1 } in a model's config.yaml)",
    );
    checkUnzippedSize(layer, undefined); // the layer alone fits
  });
});
