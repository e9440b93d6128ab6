/**
 * catalogSource: the catalog as a ModelSource (every model as version "1"), the contract the
 * /v2 routes read models through.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TfliteFnError } from '../src/errors.js';
import * as http from '../src/http/index.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { CATALOG_VERSION, catalogSource } from '../src/oip/model-source.js';

describe('catalogSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-oip-source-'));
  writeFileSync(join(dir, 'broken.yaml'), 'model: { file: nothing.tflite }\ninput: { width: -1 }\n');
  const catalog = new ModelCatalog({ dirs: [dir], warmUp: false });
  const source = catalogSource(catalog);
  after(async () => {
    await catalog.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every catalog model with one version, READY, or UNAVAILABLE with the reason', async () => {
    const index = await source.index();
    assert.deepEqual(
      index.map((model) => model.name),
      catalog.entries().map((entry) => entry.id),
    );
    const imagenet = index.find((model) => model.name === 'imagenet');
    assert.deepEqual(imagenet?.versions, [{ version: CATALOG_VERSION, state: 'READY' }]);
    const broken = index.find((model) => model.name === 'broken');
    assert.equal(broken?.versions[0]?.state, 'UNAVAILABLE');
    assert.match(broken?.versions[0]?.reason ?? '', /invalid model descriptor/);
  });

  it('resolves a model by name, with or without its version, and loads it', async () => {
    for (const version of [undefined, CATALOG_VERSION]) {
      const resolved = await source.resolve('imagenet', version);
      assert.equal(resolved.name, 'imagenet');
      assert.equal(resolved.version, CATALOG_VERSION);
      assert.equal(resolved.state, 'READY');
      const loaded = await resolved.load();
      assert.equal(loaded.descriptor.id, 'imagenet');
      resolved.release();
    }
  });

  it('is what tflite-fn/http exports, for createApp({ modelSource }) callers', () => {
    assert.equal(http.catalogSource, catalogSource);
    assert.equal(http.CATALOG_VERSION, CATALOG_VERSION);
  });

  it('an unknown name or version is a 404; an invalid descriptor resolves UNAVAILABLE and will not load', async () => {
    await assert.rejects(source.resolve('no-such-model'), (error: unknown) => {
      assert.ok(error instanceof TfliteFnError);
      assert.equal(error.status, 404);
      return true;
    });
    await assert.rejects(source.resolve('imagenet', '2'), (error: unknown) => {
      assert.ok(error instanceof TfliteFnError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'unknown_version');
      return true;
    });
    const broken = await source.resolve('broken');
    assert.equal(broken.state, 'UNAVAILABLE');
    await assert.rejects(broken.load(), /invalid model descriptor/);
  });
});
