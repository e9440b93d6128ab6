import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DescriptorError, ModelCatalog, parseDescriptor, readDescriptor } from '../src/index.js';
import { filesOf } from '../src/model/descriptor.js';

describe('model descriptors', () => {
  it('fills defaults: rgb8, cover, top 5, the WasmEdge thresholds, id from the file name', () => {
    const d = parseDescriptor(
      {
        model: { file: 'm.tflite' },
        input: { width: 224, height: 224 },
        output: { labels: { file: 'l.txt' } },
      },
      '/models/my-model.yaml',
    );
    assert.equal(d.id, 'my-model');
    assert.equal(d.task, 'classify');
    assert.equal(d.input.format, 'rgb8');
    assert.equal(d.input.resize, 'cover');
    assert.deepEqual(d.input.std, [255, 255, 255]);
    assert.equal(d.output?.top_k, 5);
    assert.equal(d.output?.label_offset, 0);
    assert.deepEqual(d.wording, { very_likely: 200, likely: 125, could_be: 50 });
  });

  it('reports every problem at once, each with its path', () => {
    const bad = {
      id: 'Bad Id',
      model: { sha256: 'xyz' },
      input: { width: -1, height: 224, format: 'rgb16', extra: true },
      output: { labels: { file: 'l.txt' }, top_k: 0 },
    };
    assert.throws(
      () => parseDescriptor(bad, 'bad.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof DescriptorError);
        const paths = error.problems.map((problem) => problem.split(':')[0]);
        for (const path of [
          'id',
          'model.file',
          'model.sha256',
          'input.width',
          'input.format',
          'input',
          'output.top_k',
        ]) {
          assert.ok(paths.includes(path), `reports ${path}; got ${paths.join(', ')}`);
        }
        assert.match(error.message, /bad\.yaml/);
        return true;
      },
    );
  });

  it('checks thresholds are ordered', () => {
    assert.throws(
      () =>
        parseDescriptor(
          {
            model: { file: 'm' },
            input: { width: 1, height: 1 },
            output: { labels: { file: 'l' } },
            wording: { very_likely: 10, likely: 100 },
          },
          'x.yaml',
        ),
      /very_likely >= likely >= could_be/,
    );
  });

  it('reports YAML syntax errors with the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-desc-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'model:\n  file: [unclosed\n');
    assert.throws(() => readDescriptor(file), /not valid YAML at line/);
  });

  it('lists a user folder next to the built-in models; a broken descriptor fails only its own model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-desc-'));
    writeFileSync(
      join(dir, 'mine.yaml'),
      'model: { file: m.tflite }\ninput: { width: 8, height: 8 }\noutput: { labels: { file: l.txt } }\n',
    );
    writeFileSync(join(dir, 'oops.yml'), 'model: {}\n');
    const catalog = new ModelCatalog({ dirs: [dir] });
    const ids = catalog.entries().map((entry) => entry.id);
    for (const id of ['imagenet', 'imagenet-small', 'birds', 'insects', 'mine', 'oops'])
      assert.ok(ids.includes(id), id);
    assert.equal(catalog.entry('mine').descriptor.input.width, 8);
    assert.throws(() => catalog.entry('oops'), DescriptorError);
    assert.equal(catalog.defaultModel, 'imagenet');
  });

  it('every built-in descriptor pins its files by sha256 and names an upstream', () => {
    for (const entry of new ModelCatalog().entries().filter((e) => e.builtin)) {
      const d = entry.descriptor;
      assert.ok(d, `${entry.id} is valid`);
      for (const ref of filesOf(d)) {
        assert.match(ref.sha256 ?? '', /^[0-9a-f]{64}$/, `${entry.id} ${ref.file}`);
        // Files shipped in npm packages come with npm install; others name their upstream.
        if (!ref.file.startsWith('npm:'))
          assert.match(ref.url ?? '', /^https:\/\//, `${entry.id} ${ref.file}`);
      }
    }
  });

  it('reads built-in descriptors from the build-time snapshot without loading zod or yaml; a changed copy is parsed', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const { ModelCatalog } = await import(${JSON.stringify(new URL('../src/model/catalog.js', import.meta.url).href)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules\\/(zod|yaml)\\//.test(k)).length > 0;
      const builtin = new ModelCatalog();
      const before = loaded();
      const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-snap-'));
      const text = readFileSync(builtin.entry('imagenet').descriptorPath, 'utf8').replace('top_k: 5', 'top_k: 7');
      writeFileSync(join(dir, 'imagenet.yaml'), text);
      const edited = new ModelCatalog({ dirs: [dir] });
      console.log(JSON.stringify({ before, after: loaded(), top: edited.entry('imagenet').descriptor.output.top_k }));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(output), { before: false, after: true, top: 7 });
  });
});
