/**
 * Hostile input for every task in TASKS, through the surfaces a client meets: POST /<task> on
 * the real app (JSON body and query string), and the real CLI in its own process. Every
 * option gets values of the wrong type and range, every route a format it does not have, and
 * every task degenerate photos (1x1, 20000x1, 1x20000, alpha, grey, 16-bit, BMP, EXIF-turned).
 * Bad options are 400 bad_option naming the option, in a short message with no stack trace
 * or host path; degenerate photos are answered, at their upright size, with every coordinate
 * inside the photo.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { handler as lambdaHandler } from '../handlers/aws-lambda/index.js';
import { createApp } from '../src/http/index.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { packageRoot } from '../src/store/paths.js';
import { TASKS } from '../src/tasks/index.js';
import { CLI, encodeBmp, photo, pngWithClaimedSize } from './helpers.js';

const catalog = new ModelCatalog({ warmUp: false });
const app = createApp({ catalog });

/**
 * Wrong values for every option of every task. A task's option not listed here fails the
 * coverage test below: a new option comes with its hostile values.
 */
const NUMBER_0_TO_1 = ['abc', 'NaN', 'Infinity', -0.1, 1.5, 1e308, [0.5], true, {}, '0x1', '5e-1', ' 0.5'];
const HOSTILE_OPTIONS: Record<string, Record<string, readonly unknown[]>> = {
  classify: {
    top: ['abc', 'NaN', 'Infinity', -1, 0, 101, 2.5, 1e308, [5], true, {}, '0x5', '5e0', ' 5'],
    resize: ['sideways', 5, ['fill'], true, {}],
  },
  detect: { tiling: ['maybe', 1, 0, ['true'], {}, 'yes'] },
  objects: { threshold: NUMBER_0_TO_1, max: ['abc', 0, -1, 101, 2.5, 1e308, [5], true, {}, '0x5', '5e0'] },
  segment: {
    threshold: NUMBER_0_TO_1,
    keep: [5, [5], [''], true, {}, 'x'.repeat(100), Array.from({ length: 300 }, (_, i) => `class${i}`)],
  },
  pose: { threshold: NUMBER_0_TO_1 },
  embed: {},
};
/** Wrong for every task: formats no task has, and values that are not format names. */
const HOSTILE_FORMATS: readonly unknown[] = ['nope', 'JSON ', 'svg', 5, ['json'], true, {}];
/** Models are named by a string id. */
const HOSTILE_MODELS: readonly unknown[] = [5, ['imagenet'], {}, true];
/** The model a task's options are checked against, where the default would refuse them for another reason. */
const MODEL_FOR: Record<string, string> = { segment: 'selfie' };

const small = await sharp(photo('grace_hopper.jpg')).resize(64, 64).jpeg().toBuffer();

/** No stack trace, no path of this host, nothing long enough to be an echo of a huge value. */
function assertClientSafe(message: string): void {
  assert.ok(message.length < 400, `message of ${message.length} characters: ${message.slice(0, 120)}…`);
  for (const hostPath of [packageRoot(), homedir(), tmpdir(), '/work/', 'node_modules'])
    assert.ok(!message.includes(hostPath), `host path ${hostPath} in: ${message}`);
  assert.doesNotMatch(message, /\n\s+at |node:internal|\.[jt]s:\d+/, `stack trace in: ${message}`);
}

async function post(path: string, body: unknown): Promise<Response> {
  return app.fetch(
    new Request(`http://tflite-fn.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

async function assertBadOption(response: Response, option: string, what: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 400, `${what}: ${response.status} ${text.slice(0, 200)}`);
  const { error } = JSON.parse(text) as { error: { code: string; message: string } };
  assert.equal(error.code, 'bad_option', what);
  assert.match(error.message, new RegExp(`\\b${option}\\b`), `${what}: the message names ${option}`);
  assertClientSafe(error.message);
}

describe('every task: hostile options over HTTP are 400 bad_option naming the option', () => {
  it('the table covers every task and every option the tasks have', () => {
    assert.deepEqual(Object.keys(HOSTILE_OPTIONS).sort(), TASKS.map((task) => task.id).sort());
    for (const task of TASKS) {
      const options = new Set(task.cli.flags.map((flag) => flag.option));
      assert.deepEqual(Object.keys(HOSTILE_OPTIONS[task.id] ?? {}).sort(), [...options].sort(), task.id);
    }
  });

  for (const task of TASKS) {
    const image = small.toString('base64');
    const model = MODEL_FOR[task.id];
    it(`${task.id}: options of the wrong type or range, in JSON and in the query`, async () => {
      for (const [option, values] of Object.entries(HOSTILE_OPTIONS[task.id] ?? {})) {
        for (const value of values) {
          const what = `${task.id} ${option}=${JSON.stringify(value).slice(0, 40)}`;
          await assertBadOption(await post(`/${task.id}`, { image, model, [option]: value }), option, what);
          if (typeof value !== 'string') continue;
          const query = new URLSearchParams({ [option]: value, ...(model ? { model } : {}) });
          const response = await app.fetch(
            new Request(`http://tflite-fn.test/${task.id}?${query}`, { method: 'POST', body: small }),
          );
          await assertBadOption(response, option, `${what} (query)`);
        }
      }
    });

    it(`${task.id}: formats it does not have and models that are not ids`, async () => {
      for (const format of HOSTILE_FORMATS) {
        const what = `${task.id} format=${JSON.stringify(format)}`;
        await assertBadOption(await post(`/${task.id}`, { image, format }), 'format', what);
      }
      for (const wrong of HOSTILE_MODELS) {
        const what = `${task.id} model=${JSON.stringify(wrong)}`;
        await assertBadOption(await post(`/${task.id}`, { image, model: wrong }), 'model', what);
      }
    });
  }

  it('an unknown model id as long as the body allows is not echoed whole', async () => {
    const response = await post('/pose', { image: small.toString('base64'), model: 'm'.repeat(20_000) });
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(response.status, 404);
    assert.equal(error.code, 'unknown_model');
    assertClientSafe(error.message);
  });
});

describe('every task: hostile fields in a Lambda direct invocation ({"task", "image", ...options})', () => {
  const image = small.toString('base64');
  const invoke = async (event: Record<string, unknown>) =>
    (await lambdaHandler(event as never)) as { status?: number; error?: { code: string; message: string } };

  it('a task that is not a task id is 400 naming task, not a silent classify', async () => {
    for (const task of [5, ['pose'], {}, true, 'x'.repeat(10_000)]) {
      const answer = await invoke({ task, image });
      const what = `task=${JSON.stringify(task).slice(0, 30)}`;
      assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer).slice(0, 200)}`);
      assert.match(answer.error?.message ?? '', /\btask\b/, what);
      assertClientSafe(answer.error?.message ?? '');
    }
  });

  for (const task of TASKS) {
    it(`${task.id}: its options of the wrong type are 400 bad_option`, async () => {
      for (const [option, values] of Object.entries(HOSTILE_OPTIONS[task.id] ?? {})) {
        for (const value of values.slice(0, 6)) {
          const answer = await invoke({ task: task.id, image, model: MODEL_FOR[task.id], [option]: value });
          const what = `${task.id} ${option}=${JSON.stringify(value).slice(0, 30)}`;
          assert.deepEqual([answer.status, answer.error?.code], [400, 'bad_option'], what);
          assertClientSafe(answer.error?.message ?? '');
        }
      }
    });
  }
});

describe('every task: hostile options on the command line', () => {
  const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-hostile-cli-'));
  const file = join(folder, 'small.jpg');
  writeFileSync(file, small);

  function cli(args: readonly string[]): { status: number | null; stderr: string; stdout: string } {
    const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: run.status, stderr: run.stderr, stdout: run.stdout };
  }

  for (const task of TASKS) {
    it(`tflite-fn ${task.id}: a wrong value for each valued flag and an unknown --format exit 2 naming them`, () => {
      const cases: [string[], string][] = [[['--format', 'nope'], 'format']];
      for (const flag of task.cli.flags) {
        if (flag.value) cases.push([[`--${flag.flag}`, 'x'.repeat(300)], flag.option]);
      }
      for (const [args, option] of cases) {
        const run = cli([task.id, ...args, file]);
        assert.equal(run.status, 2, `${task.id} ${args.join(' ')}: ${run.stderr}`);
        assert.equal(run.stdout, '');
        assert.match(run.stderr, new RegExp(`\\b${option}\\b`));
        assertClientSafe(run.stderr);
      }
    });
  }
});

describe('embed on a folder: the similarity summary grows with the photos, not with their pairs', () => {
  it("tflite-fn embed DIR of 51 photos: each photo's nearest, not 1275 pairs", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tflite-fn-embed-many-'));
    const source = sharp(photo('grace_hopper.jpg')).resize(120, 140);
    for (let i = 0; i < 51; i++) {
      const tinted = await source
        .clone()
        .modulate({ hue: i * 7, brightness: 0.6 + i / 100 })
        .jpeg()
        .toBuffer();
      writeFileSync(join(folder, `photo-${String(i).padStart(2, '0')}.jpg`), tinted);
    }
    const run = spawnSync(process.execPath, [CLI, 'embed', '--format', 'text', folder], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const summary = run.stdout.slice(run.stdout.indexOf('cosine similarity'));
    const rows = summary.split('\n').filter((line) => /^\s+[-\d.]+\s+\S+\s+\S+/.test(line));
    assert.equal(rows.length, 51, summary.slice(0, 300));
    assert.match(summary, /most similar/);
  });
});

describe('the CLI over a folder holds no result it has printed', () => {
  it('tflite-fn segment on 60 photos: memory after the 10th and the 60th result is the same', () => {
    // In a process of its own with --expose-gc: after every printed result, a full GC, then
    // the bytes held in ArrayBuffers (a DeepLab result holds ~0.5 MB of mask arrays).
    const dist = resolve(packageRoot(), 'dist');
    const script = `
      import { mkdtempSync, writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      import sharp from 'sharp';
      import { taskCommand } from '${dist}/handlers/cli/task-command.js';
      import { taskById } from '${dist}/src/tasks/index.js';
      const folder = mkdtempSync(join(${JSON.stringify(tmpdir())}, 'tflite-fn-cli-held-'));
      const files = [];
      for (let i = 0; i < 60; i++) {
        const file = join(folder, 'photo-' + i + '.png');
        const colour = { r: i * 4, g: 100, b: 50 };
        writeFileSync(file, await sharp({ create: { width: 16, height: 16, channels: 3, background: colour } }).png().toBuffer());
        files.push(file);
      }
      const held = [];
      const stdout = { write() { globalThis.gc(); held.push(process.memoryUsage().arrayBuffers); return true; } };
      const stderr = { write(text) { process.stderr.write(text); return true; } };
      const args = { task: taskById('segment'), options: {}, files, model: 'deeplab', json: true, modelsDirs: [] };
      const status = await taskCommand(args, { stdoutIsTerminal: false, stdout, stderr });
      process.stdout.write(JSON.stringify({ status, held }));
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 300_000,
      cwd: packageRoot(),
    });
    assert.equal(run.status, 0, run.stderr);
    const { status, held } = JSON.parse(run.stdout) as { status: number; held: number[] };
    assert.equal(status, 0);
    assert.equal(held.length, 60);
    const growth = ((held[59] as number) - (held[9] as number)) / 1e6;
    // Holding every result grew ~0.5 MB a photo: 26 MB from the 10th to the 60th.
    assert.ok(growth < 5, `${growth.toFixed(1)} MB more after 50 more photos`);
  });
});

/** Every {x, y[, width, height]} in an answer lies inside the photo; every number is finite. */
function assertInside(value: unknown, width: number, height: number, path = ''): void {
  if (typeof value === 'number') {
    assert.ok(Number.isFinite(value), `${path} is ${value}`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const point = value as Record<string, unknown>;
  if (typeof point.x === 'number' && typeof point.y === 'number') {
    const right = point.x + (typeof point.width === 'number' ? point.width : 0);
    const bottom = point.y + (typeof point.height === 'number' ? point.height : 0);
    assert.ok(point.x >= 0 && right <= width + 0.1, `${path}.x ${point.x}..${right} outside 0..${width}`);
    assert.ok(point.y >= 0 && bottom <= height + 0.1, `${path}.y ${point.y}..${bottom} outside 0..${height}`);
  }
  for (const [key, item] of Object.entries(value)) assertInside(item, width, height, `${path}.${key}`);
}

interface Degenerate {
  readonly name: string;
  readonly bytes: Buffer;
  /** Upright size. */
  readonly width: number;
  readonly height: number;
}

async function degeneratePhotos(): Promise<Degenerate[]> {
  const rgb = (width: number, height: number) =>
    sharp(photo('grace_hopper.jpg')).resize(width, height, { fit: 'fill' });
  const grey = await rgb(120, 90).greyscale().toColourspace('b-w').png().toBuffer();
  const alpha = await rgb(120, 90).ensureAlpha(0.3).png().toBuffer();
  const deep = await rgb(120, 90).toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(deep).metadata()).depth, 'ushort', 'a 16-bit PNG');
  assert.equal((await sharp(grey).metadata()).channels, 1, 'a one-channel PNG');
  const bmpPixels = await rgb(90, 70).raw().toBuffer();
  // Stored 90 degrees anticlockwise (90 wide, 120 high); EXIF orientation 6 turns it upright.
  const sideways = await rgb(120, 90).rotate(-90).jpeg().toBuffer();
  const turned = await sharp(sideways).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  return [
    { name: '1x1', bytes: await rgb(1, 1).png().toBuffer(), width: 1, height: 1 },
    { name: '20000x1', bytes: await rgb(20000, 1).png().toBuffer(), width: 20000, height: 1 },
    { name: '1x20000', bytes: await rgb(1, 20000).png().toBuffer(), width: 1, height: 20000 },
    { name: 'alpha PNG', bytes: alpha, width: 120, height: 90 },
    { name: 'grey PNG', bytes: grey, width: 120, height: 90 },
    { name: '16-bit PNG', bytes: deep, width: 120, height: 90 },
    { name: 'BMP', bytes: encodeBmp(bmpPixels, 90, 70, { bitsPerPixel: 24 }), width: 90, height: 70 },
    { name: 'EXIF-turned JPEG', bytes: turned, width: 120, height: 90 },
  ];
}

describe('every task: degenerate photos are answered at their upright size', async () => {
  const photos = await degeneratePhotos();

  for (const task of TASKS) {
    it(`${task.id}: JSON for every degenerate photo, coordinates inside it`, async () => {
      for (const { name, bytes, width, height } of photos) {
        const response = await app.fetch(
          new Request(`http://tflite-fn.test/${task.id}`, { method: 'POST', body: bytes }),
        );
        const text = await response.text();
        assert.equal(response.status, 200, `${task.id} ${name}: ${text.slice(0, 300)}`);
        const answer = JSON.parse(text) as { image: { width: number; height: number } };
        assert.deepEqual([answer.image.width, answer.image.height], [width, height], `${task.id} ${name}`);
        assertInside(answer, width, height, `${task.id} ${name}`);
      }
    });

    const pictures = Object.keys(task.pictures ?? {});
    if (pictures.length === 0) continue;
    it(`${task.id}: every picture (${pictures.join(', ')}) of the extreme shapes is at the upright size`, async () => {
      for (const { name, bytes, width, height } of photos.filter((p) => /x1|EXIF/.test(p.name))) {
        for (const format of pictures) {
          const response = await app.fetch(
            new Request(`http://tflite-fn.test/${task.id}?format=${format}`, { method: 'POST', body: bytes }),
          );
          const picture = Buffer.from(await response.arrayBuffer());
          assert.equal(
            response.status,
            200,
            `${task.id} ${format} ${name}: ${picture.toString().slice(0, 200)}`,
          );
          const meta = await sharp(picture).metadata();
          assert.deepEqual([meta.width, meta.height], [width, height], `${task.id} ${format} ${name}`);
        }
      }
    });
  }

  it('detect: faces of an EXIF-turned photo are where they are in the upright photo', async () => {
    const upright = photo('grace_hopper.jpg');
    const stored = await sharp(upright).rotate(-90).jpeg({ quality: 95 }).toBuffer();
    const turned = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const faces = async (bytes: Buffer) => {
      const response = await app.fetch(
        new Request('http://tflite-fn.test/detect', { method: 'POST', body: bytes }),
      );
      return (
        (await response.json()) as {
          faces: { box: { x: number; y: number; width: number; height: number } }[];
        }
      ).faces;
    };
    const [expected] = await faces(upright);
    const [got] = await faces(turned);
    assert.ok(expected && got, 'a face in both');
    for (const key of ['x', 'y', 'width'] as const)
      assert.ok(
        Math.abs(got.box[key] - expected.box[key]) <= 6,
        `${key}: ${got.box[key]} vs ${expected.box[key]}`,
      );
    // The annotated photo draws the box there too: its left edge in the box colour (#ff1744).
    const drawn = await app.fetch(
      new Request('http://tflite-fn.test/detect?format=png', { method: 'POST', body: turned }),
    );
    const { data, info } = await sharp(Buffer.from(await drawn.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const at =
      (info.width * Math.round(got.box.y + got.box.height / 2) + Math.round(got.box.x)) * info.channels;
    assert.deepEqual([...data.subarray(at, at + 3)], [255, 23, 68], 'the box edge, upright');
  });
});

describe('every task and every picture: broken images are refused as classify refuses them', () => {
  const jpeg = photo('grace_hopper.jpg');
  const broken: [string, Uint8Array, number, string][] = [
    ['an empty body', new Uint8Array(0), 400, 'empty_image'],
    ['random bytes', randomBytes(3000), 415, 'unsupported_image'],
    ['text', Buffer.from('hello, world'), 415, 'unsupported_image'],
    [
      'an SVG',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      415,
      'unsupported_image',
    ],
    ['half a JPEG', jpeg.subarray(0, jpeg.length / 2), 400, 'corrupt_image'],
    ['a 30000x30000 PNG header', pngWithClaimedSize(30000, 30000), 413, 'image_too_large'],
  ];
  for (const task of TASKS) {
    const formats = ['json', ...Object.keys(task.pictures ?? {})];
    it(`${task.id} (${formats.join(', ')})`, async () => {
      for (const format of formats) {
        for (const [name, body, status, code] of broken) {
          const response = await app.fetch(
            new Request(`http://tflite-fn.test/${task.id}?format=${format}`, {
              method: 'POST',
              body: body as Uint8Array<ArrayBuffer>,
            }),
          );
          const { error } = (await response.json()) as { error: { code: string; message: string } };
          assert.deepEqual([response.status, error.code], [status, code], `${task.id} ${format}: ${name}`);
          assertClientSafe(error.message);
        }
      }
    });
  }
});
