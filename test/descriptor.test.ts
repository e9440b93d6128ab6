import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createApp } from '../src/http/app.js';
import { DescriptorError, ModelCatalog, parseDescriptor, readDescriptor } from '../src/index.js';
import { filesOf } from '../src/model/descriptor.js';
import { outputOf } from '../src/tasks/classify/section.js';
import { photo, pngWithClaimedSize, SHARED_MODELS } from './helpers.js';

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
    assert.equal(outputOf(d).top_k, 5);
    assert.equal(outputOf(d).label_offset, 0);
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

  it('batch: takes max_size (1-64) and max_queue_delay_ms (0-1000, default 5), nothing else', () => {
    const base = {
      model: { file: 'm.tflite' },
      input: { width: 224, height: 224 },
      output: { labels: { file: 'l.txt' } },
    };
    assert.equal(parseDescriptor(base, 'plain.yaml').batch, undefined, 'absent: no batching');
    assert.deepEqual(parseDescriptor({ ...base, batch: { max_size: 8 } }, 'b.yaml').batch, {
      max_size: 8,
      max_queue_delay_ms: 5,
    });
    assert.deepEqual(
      parseDescriptor({ ...base, batch: { max_size: 64, max_queue_delay_ms: 0 } }, 'b.yaml').batch,
      { max_size: 64, max_queue_delay_ms: 0 },
    );
    for (const [batch, path] of [
      [{}, 'batch.max_size'],
      [{ max_size: 0 }, 'batch.max_size'],
      [{ max_size: 65 }, 'batch.max_size'],
      [{ max_size: 2.5 }, 'batch.max_size'],
      [{ max_size: 8, max_queue_delay_ms: 1001 }, 'batch.max_queue_delay_ms'],
      [{ max_size: 8, max_queue_delay_ms: -1 }, 'batch.max_queue_delay_ms'],
      [{ max_size: 8, preferred: [4] }, 'batch'],
      ['yes', 'batch'],
    ] as const) {
      assert.throws(
        () => parseDescriptor({ ...base, batch }, 'b.yaml'),
        (error: unknown) => {
          assert.ok(error instanceof DescriptorError);
          const paths = error.problems.map((problem) => problem.split(':')[0]);
          assert.deepEqual(paths, [path], JSON.stringify(batch));
          return true;
        },
      );
    }
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

describe('what a cold start imports', () => {
  it('the catalog and every task (TASKS) import without loading sharp: libvips loads on the first photo', () => {
    const script = `
      const libvips = () => process.report.getReport().sharedObjects.some((path) => /vips|sharp/i.test(path));
      const { ModelCatalog } = await import(${JSON.stringify(new URL('../src/model/catalog.js', import.meta.url).href)});
      const { TASKS } = await import(${JSON.stringify(new URL('../src/tasks/index.js', import.meta.url).href)});
      new ModelCatalog();
      const before = libvips();
      const { openImage } = await import(${JSON.stringify(new URL('../src/image/decode.js', import.meta.url).href)});
      await openImage(new Uint8Array(${JSON.stringify([...pngWithClaimedSize(2, 2)])}));
      console.log(JSON.stringify({ tasks: TASKS.length > 1, before, after: libvips() }));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(output), { tasks: true, before: false, after: true });
  });
});

describe("a model's files stay inside its folder", () => {
  const descriptor = (model: string, labels = 'labels.txt') =>
    `model: { file: '${model}' }\ninput: { width: 128, height: 128 }\noutput: { labels: { file: '${labels}' } }\n`;

  it('refuses every escape form in a descriptor, and accepts names, subfolders and npm: files', () => {
    const escapes = [
      '../../../../etc/passwd',
      '/etc/passwd',
      'sub/../../tiny.tflite',
      '..',
      '..\\..\\tiny.tflite',
      'C:\\models\\tiny.tflite',
      '\\\\server\\share\\tiny.tflite',
      'npm:../../etc/passwd',
      'npm:/etc/passwd',
    ];
    for (const file of escapes) {
      assert.throws(
        () =>
          parseDescriptor(
            { model: { file }, input: { width: 8, height: 8 }, output: { labels: { file: 'l.txt' } } },
            'x.yaml',
          ),
        (error: unknown) =>
          error instanceof DescriptorError &&
          error.problems.some((p) => /^model\.file: must name a file inside/.test(p)),
        file,
      );
    }
    for (const file of [
      'tiny.tflite',
      'sub/tiny.tflite',
      'npm:@mediapipe/face_detection/x.tflite',
      'a..b.tflite',
    ]) {
      assert.equal(
        parseDescriptor(
          { model: { file }, input: { width: 8, height: 8 }, output: { labels: { file: 'l.txt' } } },
          'x.yaml',
        ).model.file,
        file,
      );
    }
  });

  it('over HTTP: escapes are refused before any read, and no message holds a host path', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tflite-fn-contain-'));
    const outside = join(root, 'outside');
    const dir = join(root, 'models');
    mkdirSync(outside);
    mkdirSync(dir);
    // A working model outside the folder: if any escape were read, classifying would succeed.
    copyFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'), join(outside, 'tiny.tflite'));
    copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(outside, 'labels.txt'));
    copyFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'), join(dir, 'tiny.tflite'));
    copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(dir, 'labels.txt'));
    symlinkSync(join(outside, 'tiny.tflite'), join(dir, 'link.tflite'));
    symlinkSync(join(outside, 'labels.txt'), join(dir, 'link-labels.txt'));
    symlinkSync(outside, join(dir, 'sub'));
    writeFileSync(join(dir, 'good.yaml'), descriptor('tiny.tflite'));
    writeFileSync(join(dir, 'dotdot.yaml'), descriptor('../outside/tiny.tflite'));
    writeFileSync(join(dir, 'absolute.yaml'), descriptor(join(outside, 'tiny.tflite')));
    writeFileSync(join(dir, 'passwd.yaml'), descriptor('../../../../../../../../etc/passwd'));
    writeFileSync(join(dir, 'link.yaml'), descriptor('link.tflite'));
    writeFileSync(join(dir, 'linked-labels.yaml'), descriptor('tiny.tflite', 'link-labels.txt'));
    writeFileSync(join(dir, 'linked-folder.yaml'), descriptor('sub/tiny.tflite'));
    writeFileSync(join(dir, 'missing.yaml'), descriptor('gone.tflite'));
    symlinkSync('/dev/zero', join(dir, 'zero.yaml'));

    const catalog = new ModelCatalog({ dirs: [dir], warmUp: false });
    const app = createApp({ catalog, corsOrigins: [], logError: () => undefined });
    const ask = async (model: string) => {
      const response = await app.fetch(
        new Request(`http://localhost/classify?model=${model}`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg' },
          body: photo('parrot.jpg'),
        }),
      );
      const text = await response.text();
      assert.ok(!text.includes(root), `${model}: no host path in ${text}`);
      assert.ok(!text.includes(tmpdir()), `${model}: no host path in ${text}`);
      return {
        status: response.status,
        body: JSON.parse(text) as { label?: string; error?: { code: string; message: string } },
      };
    };
    try {
      const good = await ask('good');
      assert.equal(good.status, 200);
      assert.equal(good.body.label, 'macaw');
      for (const model of ['dotdot', 'absolute', 'passwd']) {
        const refused = await ask(model);
        assert.equal(refused.status, 500, model);
        assert.equal(refused.body.error?.code, 'invalid_model_descriptor', model);
        assert.match(
          refused.body.error?.message ?? '',
          /invalid model descriptor .*\.yaml:\s+model\.file: must name a file inside/,
        );
      }
      for (const [model, file] of [
        ['link', 'link.tflite'],
        ['linked-labels', 'link-labels.txt'],
        ['linked-folder', 'sub/tiny.tflite'],
      ] as const) {
        const refused = await ask(model);
        assert.equal(refused.status, 500, model);
        assert.equal(refused.body.error?.code, 'model_load_failed', model);
        assert.match(
          refused.body.error?.message ?? '',
          new RegExp(`file '${file}' is a link to a file outside its folder`),
        );
      }
      const missing = await ask('missing');
      assert.equal(missing.body.error?.code, 'model_load_failed');
      assert.match(
        missing.body.error?.message ?? '',
        /the model file of model 'missing' is missing: gone\.tflite\. Fix/,
      );
      const zero = await ask('zero');
      assert.equal(zero.body.error?.code, 'invalid_model_descriptor');
    } finally {
      await catalog.dispose();
    }
  });
});
