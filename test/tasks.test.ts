/**
 * The task model's core: the task table and the one runner every task goes through (model
 * defaulting, refusing another task's model, the fields every result starts with).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  type BadRequestError,
  ModelCatalog,
  runTask,
  TASKS,
  type TfliteFnError,
  taskById,
} from '../src/index.js';
import { classifyTask } from '../src/tasks/classify/index.js';
import { detectTask } from '../src/tasks/detect/index.js';
import { photo } from './helpers.js';

const catalog = new ModelCatalog({ warmUp: false });

describe('the task table', () => {
  it('has one task per id, each with a default model of its own task in the catalog', () => {
    const ids = TASKS.map((task) => task.id);
    assert.deepEqual([...new Set(ids)], ids);
    assert.ok(ids.includes('classify') && ids.includes('detect'));
    for (const task of TASKS) {
      assert.match(task.id, /^[a-z]+$/);
      assert.equal(catalog.entry(task.defaultModel).descriptor.task, task.id, task.id);
    }
  });

  it('taskById finds a task, and refuses an unknown id with 400 unknown_task listing the ids', () => {
    assert.equal(taskById('detect'), detectTask);
    assert.throws(
      () => taskById('teleport'),
      (error: TfliteFnError) =>
        error.status === 400 &&
        error.code === 'unknown_task' &&
        TASKS.every((task) => error.message.includes(task.id)),
    );
  });

  it('section keys are unique and never a shared descriptor field', () => {
    const keys = TASKS.flatMap((task) => (task.section ? [task.section.key] : []));
    assert.deepEqual([...new Set(keys)], keys);
    for (const shared of ['id', 'title', 'task', 'model', 'input', 'wording'])
      assert.ok(!keys.includes(shared));
  });
});

describe('what importing the task table costs', () => {
  it("loads every task's declarations but no task's working parts: no image, drawing or model-reading code", () => {
    // A process runs one task: the others' code (and its own until it runs) must not load at
    // start. Each module costs ~0.3 ms to load; the whole table would add ~25 ms to a cold start.
    const hooks = `data:text/javascript,${encodeURIComponent(
      "export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write(url + '\\n'); return next(url, context); }",
    )}`;
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(hooks)});
      await import(${JSON.stringify(new URL('../src/model/catalog.js', import.meta.url).href)});
      const { TASKS } = await import(${JSON.stringify(new URL('../src/tasks/index.js', import.meta.url).href)});
      if (TASKS.length < 2) throw new Error('no tasks');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const loaded = run.stderr.split('\n').filter((line) => line.startsWith('file:'));
    assert.ok(
      loaded.some((url) => url.endsWith('/src/tasks/classify/index.js')),
      'the hook sees the modules',
    );
    // Image decoding and drawing, and reading a model's constants (the engine's integrity
    // check reads the file's structure, and loads with the catalog).
    const working = loaded.filter((url) =>
      /\/src\/(image\/(decode|decode-cost|to-tensor|overlay|bmp|jpeg-structure)|tflite\/(constants|flexbuffer))\.js$/.test(
        url,
      ),
    );
    assert.deepEqual(working, []);
  });
});

describe('runTask', () => {
  it("defaults to the task's model; the catalog's default model counts for its own task only", async () => {
    const result = await runTask(detectTask, photo('face.jpg'), {}, { catalog });
    assert.equal(result.model, 'faces');
    const birds = new ModelCatalog({ warmUp: false, defaultModel: 'birds' });
    assert.equal(birds.defaultModelFor(classifyTask), 'birds');
    assert.equal(birds.defaultModelFor(detectTask), 'faces');
  });

  it('refuses a model of another task with 400 wrong_task naming the task and route to use', async () => {
    await assert.rejects(
      runTask(classifyTask, photo('face.jpg'), {}, { catalog, model: 'faces' }),
      (error: BadRequestError) =>
        error.status === 400 &&
        error.code === 'wrong_task' &&
        /use it with detect \(POST \/detect\)/.test(error.message),
    );
  });

  it('adds model, engine, the upright image size and timings (ms to 2 decimals) to the task answer', async () => {
    // Stored on its side with EXIF orientation 6: upright it is 517 wide and 606 high.
    const stored = await sharp(photo('grace_hopper.jpg')).rotate(270).jpeg({ quality: 95 }).toBuffer();
    const tagged = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const result = await runTask(classifyTask, tagged, { top: 2 }, { catalog, model: 'imagenet' });
    assert.equal(result.model, 'imagenet');
    assert.ok(['litert', 'ort'].includes(result.engine));
    assert.deepEqual(result.image, { format: 'jpeg', width: 517, height: 606 });
    assert.equal(result.top.length, 2);
    assert.equal(result.label, 'military uniform');
    const { decodeMs, inferenceMs, totalMs } = result.timings;
    for (const ms of [decodeMs, inferenceMs, totalMs]) assert.equal(Math.round(ms * 100) / 100, ms);
    assert.ok(decodeMs > 0 && inferenceMs > 0 && totalMs >= decodeMs + inferenceMs - 0.02);
  });
});
