import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { createApp } from '../src/http/app.js';
import type { ModelDescriptor } from '../src/model/descriptor.js';
import { type EmbedResult, embedTask } from '../src/tasks/embed/index.js';
import { outputQuantization } from '../src/tasks/embed/output-quantization.js';
import { cosineSimilarity, unitEmbedding } from '../src/tasks/embed/vector.js';
import { runTask } from '../src/tasks/run.js';
import { CLI, SHARED, SHARED_MODELS } from './helpers.js';

const MODEL_FILE = 'mobilenet_v1_1.0_224_quant_embedding_extractor.tflite';

describe('embed: reading the output', () => {
  it("reads the output's scale and zero point from the model file", () => {
    const bytes = readFileSync(join(SHARED_MODELS, MODEL_FILE));
    const byName = outputQuantization(bytes, MODEL_FILE, {
      name: 'MobilenetV1/Logits/AvgPool_1a/AvgPool',
      index: 0,
    });
    assert.ok(byName);
    assert.ok(Math.abs(byName.scale - 0.0235285) < 1e-6, String(byName.scale));
    assert.equal(byName.zeroPoint, 0);
    // A signature name the file's tensors do not have: the output of the same position.
    assert.deepEqual(outputQuantization(bytes, MODEL_FILE, { name: 'output_0', index: 0 }), byName);
  });

  it('a float output has no quantization; a file that is not a model is a model_load_failed', () => {
    const movenet = readFileSync(join(SHARED_MODELS, 'movenet_single_pose_lightning_ptq.tflite'));
    assert.equal(outputQuantization(movenet, 'movenet', { name: 'output_0', index: 0 }), undefined);
    assert.throws(
      () => outputQuantization(new Uint8Array(64), 'junk', { name: 'x', index: 0 }),
      (error: { code?: string }) => error.code === 'model_load_failed',
    );
  });

  it('dequantizes with the zero point and scales to unit length', () => {
    const v = unitEmbedding(new Uint8Array([13, 10, 14]), { scale: 0.5, zeroPoint: 10 });
    // (3, 0, 4) * 0.5 -> (0.6, 0, 0.8)
    assert.deepEqual(
      Array.from(v, (x) => Math.round(x * 1e9) / 1e9),
      [0.6, 0, 0.8],
    );
    assert.deepEqual(Array.from(unitEmbedding(new Float32Array([0, 0]), undefined)), [0, 0]);
  });
});

describe('embed: the model is checked at load', () => {
  it("reads the uint8 output's quantization once; an output the model lacks is model_load_failed", async () => {
    const bytes = readFileSync(join(SHARED_MODELS, MODEL_FILE));
    const engine = await LiteRtCompiledModelAdapter.compile(bytes, MODEL_FILE);
    try {
      const parts = (embed: unknown) => ({
        descriptor: { id: 'm', embed } as unknown as ModelDescriptor,
        engine,
        labels: [],
        tflite: async () => bytes,
      });
      const state = await embedTask.prepareModel(parts(undefined));
      assert.equal(state.outputIndex, 0);
      assert.ok(Math.abs((state.quantization?.scale ?? 0) - 0.0235285) < 1e-6);
      await assert.rejects(Promise.resolve(embedTask.prepareModel(parts({ output: 'logits' }))), {
        code: 'model_load_failed',
        message: /'logits' is not an output/,
      });
    } finally {
      engine.dispose();
    }
  });
});

describe('embed: cosine similarity', () => {
  it('is 1 for the same direction, 0 for orthogonal, -1 for opposite, 0 against all zeros', () => {
    assert.equal(cosineSimilarity([1, 2, 3], [2, 4, 6]), 1);
    assert.equal(cosineSimilarity([1, 0], [0, 5]), 0);
    assert.equal(cosineSimilarity([1, 1], [-1, -1]), -1);
    assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
    assert.ok(Math.abs(cosineSimilarity([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  });

  it('refuses vectors of different lengths (400 dimension_mismatch)', () => {
    assert.throws(
      () => cosineSimilarity([1, 2], [1, 2, 3]),
      (error: { status?: number; code?: string }) =>
        error.status === 400 && error.code === 'dimension_mismatch',
    );
  });

  it('the CLI summary lists every pair, most similar first, and nothing for one image', () => {
    const base = {
      model: 'm',
      engine: 'litert',
      image: { format: 'jpeg', width: 1, height: 1 },
      timings: { decodeMs: 0, inferenceMs: 0, totalMs: 0 },
      dims: 2,
    };
    const results = [
      { ...base, embedding: [1, 0] },
      { ...base, embedding: [0, 1] },
      { ...base, embedding: [0.6, 0.8] },
    ];
    const summarize = embedTask.cli.summarize;
    assert.ok(summarize);
    assert.equal(summarize(results.slice(0, 1), ['a']), undefined);
    const summary = summarize(results, ['a', 'b', 'c']);
    assert.deepEqual(summary?.text.split('\n'), [
      'cosine similarity:',
      '  0.8000  b  c',
      '  0.6000  a  c',
      '  0.0000  a  b',
    ]);
    // The same pairs for --json, as one JSON value.
    assert.deepEqual(JSON.parse(JSON.stringify(summary?.json)), {
      similarities: [
        { a: 'b', b: 'c', cosine: 0.8 },
        { a: 'a', b: 'c', cosine: 0.6 },
        { a: 'a', b: 'b', cosine: 0 },
      ],
    });
  });
});

const SAMPLE = join(SHARED, 'imagenet-sample');
/** imagenet-sample's files, sorted: file i is ImageNet class i (labels line i + 1). */
const SAMPLE_FILES = readdirSync(SAMPLE)
  .filter((name) => name.endsWith('.JPEG'))
  .sort();

function sampleOf(className: string): string {
  const file = SAMPLE_FILES.find((name) => name.endsWith(`_${className}.JPEG`));
  assert.ok(file, className);
  return file;
}

async function embedding(file: string): Promise<readonly number[]> {
  return (await runTask(embedTask, readFileSync(join(SAMPLE, file)), {})).embedding;
}

describe('embed through runTask: related photos are closer than unrelated ones', () => {
  it('a unit vector of 1024 values, the same for the same photo', async () => {
    const bytes = readFileSync(join(SAMPLE, sampleOf('golden_retriever')));
    const result: EmbedResult = await runTask(embedTask, bytes, {});
    assert.equal(result.model, 'mobilenet-embed');
    assert.equal(result.dims, 1024);
    assert.equal(result.embedding.length, 1024);
    const norm = Math.sqrt(result.embedding.reduce((sum, v) => sum + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
    // ReLU6 features: none negative, and not all zero.
    assert.ok(result.embedding.every((v) => v >= 0));
    assert.ok(result.embedding.some((v) => v > 0));
    const again = await runTask(embedTask, bytes, {});
    assert.ok(cosineSimilarity(result.embedding, again.embedding) > 0.99999);
  });

  /*
   * Measured (one photo per class; both engines give the same vectors): golden retriever vs
   * Labrador retriever 0.498, vs container ship 0.403; tabby vs Egyptian cat 0.730, vs
   * container ship 0.412. Features are non-negative, so unrelated photos sit near 0.4, not 0.
   */
  it('two retrievers, two cats: closer than a dog or a cat and a container ship', async () => {
    const [golden, labrador, tabby, egyptian, ship] = await Promise.all(
      ['golden_retriever', 'Labrador_retriever', 'tabby', 'Egyptian_cat', 'container_ship'].map((name) =>
        embedding(sampleOf(name)),
      ),
    );
    const near = (a: readonly number[] | undefined, b: readonly number[] | undefined) =>
      cosineSimilarity(a as readonly number[], b as readonly number[]);
    assert.ok(
      near(golden, labrador) > near(golden, ship) + 0.05,
      `${near(golden, labrador)} vs ${near(golden, ship)}`,
    );
    assert.ok(
      near(labrador, golden) > near(labrador, ship) + 0.05,
      `${near(labrador, golden)} vs ${near(labrador, ship)}`,
    );
    assert.ok(
      near(tabby, egyptian) > near(tabby, ship) + 0.2,
      `${near(tabby, egyptian)} vs ${near(tabby, ship)}`,
    );
  });

  /*
   * Over groups, so one odd photo cannot decide: the 118 dog breeds (classes 151-268) and 15
   * vessels. Measured: every dog's nearest neighbour among the other 132 photos is a dog
   * (118 of 118); mean similarity dog-dog 0.503, dog-vessel 0.436.
   */
  it("every dog photo's nearest neighbour among 118 dogs and 15 vessels is a dog", async () => {
    const dogs = SAMPLE_FILES.slice(151, 269);
    assert.match(dogs[0] as string, /_Chihuahua\./);
    assert.match(dogs.at(-1) as string, /_Mexican_hairless\./);
    const vessels = [
      'aircraft_carrier',
      'canoe',
      'catamaran',
      'container_ship',
      'fireboat',
      'gondola',
      'lifeboat',
      'liner',
      'pirate',
      'schooner',
      'speedboat',
      'submarine',
      'trimaran',
      'wreck',
      'yawl',
    ].map(sampleOf);
    const vectors = new Map<string, readonly number[]>();
    for (const file of [...dogs, ...vessels]) vectors.set(file, await embedding(file));
    const similarity = (a: string, b: string) =>
      cosineSimilarity(vectors.get(a) as readonly number[], vectors.get(b) as readonly number[]);
    let dogFirst = 0;
    let dogDog = 0;
    let dogVessel = 0;
    for (const dog of dogs) {
      const others = [...dogs, ...vessels].filter((file) => file !== dog);
      const nearest = others.reduce((best, file) =>
        similarity(dog, file) > similarity(dog, best) ? file : best,
      );
      if (dogs.includes(nearest)) dogFirst++;
      dogDog += others
        .filter((file) => dogs.includes(file))
        .reduce((sum, file) => sum + similarity(dog, file), 0);
      dogVessel += vessels.reduce((sum, file) => sum + similarity(dog, file), 0);
    }
    const meanDogDog = dogDog / (dogs.length * (dogs.length - 1));
    const meanDogVessel = dogVessel / (dogs.length * vessels.length);
    assert.ok(dogFirst >= 112, `${dogFirst} of ${dogs.length} dogs' nearest neighbour is a dog`);
    assert.ok(meanDogDog > meanDogVessel + 0.04, `dog-dog ${meanDogDog}, dog-vessel ${meanDogVessel}`);
  });

  it('refuses a model of another task (400 wrong_task)', async () => {
    await assert.rejects(
      runTask(embedTask, readFileSync(join(SAMPLE, sampleOf('tabby'))), {}, { model: 'movenet' }),
      {
        status: 400,
        code: 'wrong_task',
      },
    );
  });
});

describe('embed on the surfaces: the CLI and POST /embed', () => {
  it('tflite-fn embed A B C prints one JSON vector per photo, then every pair by similarity', () => {
    const files = ['golden_retriever', 'Labrador_retriever', 'container_ship'].map((name) =>
      join(SAMPLE, sampleOf(name)),
    );
    const run = spawnSync(process.execPath, [CLI, 'embed', ...files], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3 + 1 + 3);
    const vectors = lines
      .slice(0, 3)
      .map((line) => JSON.parse(line) as { file: string; dims: number; embedding: number[] });
    assert.deepEqual(
      vectors.map((v) => [v.file, v.dims, v.embedding.length]),
      files.map((file) => [file, 1024, 1024]),
    );
    assert.equal(lines[3], 'cosine similarity:');
    // Most similar first: the two retrievers (0.4978), then each with the ship.
    const [first, second, third] = lines.slice(4).map((line) => line.trim().split(/\s+/));
    assert.deepEqual(first?.slice(1), [files[0], files[1]]);
    assert.ok(Number(first?.[0]) > Number(second?.[0]) && Number(second?.[0]) >= Number(third?.[0]));
    const stated = Number(first?.[0]);
    const computed = cosineSimilarity(vectors[0]?.embedding ?? [], vectors[1]?.embedding ?? []);
    assert.ok(Math.abs(stated - computed) < 1e-4, `${stated} vs ${computed}`);
  });

  it('tflite-fn embed A B --json prints only JSON lines: the vectors, then the similarities', () => {
    const files = ['golden_retriever', 'container_ship'].map((name) => join(SAMPLE, sampleOf(name)));
    const run = spawnSync(process.execPath, [CLI, 'embed', ...files, '--json'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const values = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const vectors = values.slice(0, 2) as { file: string; embedding: number[] }[];
    assert.deepEqual(
      vectors.map((v) => v.file),
      files,
    );
    const { similarities } = values[2] as { similarities: { a: string; b: string; cosine: number }[] };
    assert.equal(similarities.length, 1);
    assert.deepEqual([similarities[0]?.a, similarities[0]?.b], files);
    const computed = cosineSimilarity(vectors[0]?.embedding ?? [], vectors[1]?.embedding ?? []);
    assert.ok(Math.abs((similarities[0]?.cosine ?? Number.NaN) - computed) < 1e-4);
  });

  it('POST /embed answers the vector as JSON; a picture format is 400 naming the forms', async () => {
    const app = createApp();
    const post = (query: string) =>
      app.fetch(
        new Request(`http://localhost/embed${query}`, {
          method: 'POST',
          body: readFileSync(join(SAMPLE, sampleOf('tabby'))),
          headers: { 'content-type': 'image/jpeg' },
        }),
      );
    const json = await post('');
    assert.equal(json.status, 200);
    const body = (await json.json()) as { model: string; dims: number; embedding: number[] };
    assert.equal(body.model, 'mobilenet-embed');
    assert.equal(body.embedding.length, body.dims);
    const bad = await post('?format=png');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /json, text/);
  });
});
