import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensurePinnedFile, sha256OfFile } from '../src/store/fetch.js';
import { SHARED_MODELS } from './helpers.js';

const LABELS = {
  name: 'imagenet_labels.txt',
  sha256: 'b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1',
  // Nothing answers here (port 9 on loopback), so the download fails at once, as offline.
  url: 'http://127.0.0.1:9/imagenet_labels.txt',
};

describe('model store', () => {
  it('falls back to a mirror when the upstream cannot be reached, and verifies the hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-cache-'));
    const { path, source } = await ensurePinnedFile(LABELS, { dir, mirrors: [SHARED_MODELS], quiet: true });
    assert.equal(source, 'mirror');
    assert.equal(await sha256OfFile(path), LABELS.sha256);
    const again = await ensurePinnedFile(LABELS, { dir, mirrors: [SHARED_MODELS], quiet: true });
    assert.equal(again.source, 'cache', 'a verified file is not fetched twice');
  });

  it('replaces a corrupt cached file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-cache-'));
    writeFileSync(join(dir, LABELS.name), 'half a file');
    const { path, source } = await ensurePinnedFile(LABELS, { dir, mirrors: [SHARED_MODELS], quiet: true });
    assert.equal(source, 'mirror');
    assert.deepEqual(readFileSync(path), readFileSync(join(SHARED_MODELS, LABELS.name)));
  });

  it('refuses a mirror copy with the wrong hash, and says what it tried and how to fix it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-cache-'));
    const badMirror = mkdtempSync(join(tmpdir(), 'tflite-fn-mirror-'));
    writeFileSync(join(badMirror, LABELS.name), 'tampered');
    await assert.rejects(
      ensurePinnedFile(LABELS, { dir, mirrors: [badMirror, join(badMirror, 'empty')], quiet: true }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'fetch_failed');
        assert.match(error.message, /download http:\/\/127\.0\.0\.1:9/);
        assert.match(error.message, /sha256 mismatch/);
        assert.match(error.message, /not there/);
        assert.match(error.message, /npx tflite-fn setup/);
        return true;
      },
    );
  });
});
