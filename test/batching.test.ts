/**
 * Dynamic batching (issue 15): converted graphs with an open batch dimension, batched runs on
 * the native engine, the batcher that gathers concurrent requests, and the server with it on.
 *
 * The batched-equals-alone checks use real models and real photos: each item of a batch must
 * get exactly (uint8) the outputs its photo gets alone, and different photos make sure an item
 * cannot pass with another item's answer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { DynamicBatcher } from '../src/batch/batcher.js';
import { BATCHING_OFF, batchingFor } from '../src/batch/settings.js';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { verifyConversion } from '../src/convert/verify.js';
import { OrtCompiledModel } from '../src/engine/ort-model.js';
import type { TensorData } from '../src/engine/types.js';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb, rgbToTensor, type TensorLayout } from '../src/image/to-tensor.js';
import { cutGraph } from '../src/tflite/cut.js';
import { IMAGES, photo, SHARED_MODELS } from './helpers.js';

/** Different photos: a batch item answered with its neighbour's outputs cannot pass. */
const PHOTOS = ['grace_hopper.jpg', 'pets.jpg', 'food.jpg', 'parrot.jpg'];

const SELFIE = join(
  dirname(createRequire(import.meta.url).resolve('@mediapipe/selfie_segmentation/package.json')),
  'selfie_segmentation.tflite',
);

async function photoTensors(layout: TensorLayout): Promise<TensorData[]> {
  const tensors: TensorData[] = [];
  for (const name of PHOTOS) {
    const image = await openImage(new Uint8Array(readFileSync(join(IMAGES, name))));
    tensors.push(rgbToTensor(await resizeToRgb(image, layout.width, layout.height, 'fill'), layout));
  }
  return tensors;
}

function rgb8(size: number): TensorLayout {
  return { width: size, height: size, format: 'rgb8', mean: [0, 0, 0], std: [1, 1, 1] };
}

function sharedModel(file: string, cutAt?: readonly string[]): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(SHARED_MODELS, file)));
  return cutAt ? cutGraph(bytes, cutAt, file) : bytes;
}

/**
 * Converts the model, runs every photo alone and all of them as one batch, and compares item
 * by item: `tolerance` 0 means the very same values.
 */
async function assertBatchEqualsAlone(
  tflite: Uint8Array,
  layout: TensorLayout,
  label: string,
  tolerance = 0,
) {
  const conversion = convertTfliteToOnnx(tflite, label);
  assert.deepEqual(conversion.batch, { open: true });
  const model = await OrtCompiledModel.compile(conversion.onnx, conversion, label, 1, undefined, true);
  try {
    const photos = await photoTensors(layout);
    const alone: TensorData[][] = [];
    for (const photo of photos) alone.push(await model.run([photo]));
    const batched = await model.runBatch(photos.map((photo) => [photo]));
    assert.equal(batched.length, photos.length);
    batched.forEach((outputs, item) => {
      outputs.forEach((got, output) => {
        const want = alone[item]?.[output] as TensorData;
        assert.equal(got.length, want.length, `item ${item}, output ${output}: length`);
        let worst = 0;
        for (let i = 0; i < want.length; i++)
          worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
        assert.ok(worst <= tolerance, `${label} item ${item}, output ${output}: differs by ${worst}`);
      });
    });
    // The photos differ, so the items' answers must too (no item answered with another's).
    assert.notDeepEqual(batched[0]?.[0], batched[1]?.[0]);
  } finally {
    model.dispose();
  }
}

describe('converted graphs run batches: each item gets its own outputs', () => {
  it('MobileNet v2 (uint8): byte-identical to each photo alone', async () => {
    await assertBatchEqualsAlone(sharedModel('mobilenet_v2_1.0_224_quant.tflite'), rgb8(224), 'imagenet');
  });

  it('SSD MobileNet up to its post-processing (RESHAPE, CONCATENATION along anchors): byte-identical', async () => {
    const tflite = sharedModel('ssd_mobilenet_v1_coco_quant_detect.tflite', ['Squeeze', 'convert_scores']);
    await assertBatchEqualsAlone(tflite, rgb8(300), 'ssd');
  });

  it('DeepLab v3 up to its ARG_MAX (uint8 RESIZE_BILINEAR, sizes taken from the batch): byte-identical', async () => {
    const tflite = sharedModel('deeplabv3_mnv2_dm05_pascal_quant.tflite', ['ResizeBilinear_2']);
    await assertBatchEqualsAlone(tflite, rgb8(513), 'deeplab');
  });

  it('selfie segmentation (float32): within the verification tolerance of each photo alone', async () => {
    const layout: TensorLayout = {
      width: 256,
      height: 256,
      format: 'rgb32f',
      mean: [0, 0, 0],
      std: [255, 255, 255],
    };
    await assertBatchEqualsAlone(new Uint8Array(readFileSync(SELFIE)), layout, 'selfie', 1e-4);
  });

  it('MoveNet, whose graph reshapes its batch dimension away, is converted unbatched and says why', async () => {
    const conversion = convertTfliteToOnnx(
      sharedModel('movenet_single_pose_lightning_ptq.tflite'),
      'movenet',
    );
    assert.equal(conversion.batch.open, false);
    assert.match(conversion.batch.open ? '' : conversion.batch.reason, /batch dimension.*operator \d+/);
    const model = await OrtCompiledModel.compile(conversion.onnx, conversion, 'movenet', 1, undefined, false);
    try {
      const input = new Uint8Array(192 * 192 * 3);
      await assert.rejects(model.runBatch([[input], [input]]), /does not run batches/);
      // One item alone still runs through runBatch, the way run does.
      assert.equal((await model.runBatch([[input]])).length, 1);
    } finally {
      model.dispose();
    }
  });

  it('a batch with one malformed item is refused before it runs, naming the input', async () => {
    const conversion = convertTfliteToOnnx(sharedModel('mobilenet_v1_0.25_128_quant.tflite'), 'small');
    const model = await OrtCompiledModel.compile(conversion.onnx, conversion, 'small', 1, undefined, true);
    try {
      const good = new Uint8Array(128 * 128 * 3);
      await assert.rejects(
        model.runBatch([[good], [new Uint8Array(7)], [good]]),
        /needs 49152 uint8 values, got 7/,
      );
    } finally {
      model.dispose();
    }
  });
});

describe('verification covers batched runs', () => {
  it('a batch of 3 photos that matches each photo alone: the report lets the model batch', async () => {
    const tflite = sharedModel('mobilenet_v1_0.25_128_quant.tflite');
    const conversion = convertTfliteToOnnx(tflite, 'small');
    const photos = (await photoTensors(rgb8(128))).map((tensor, i) => ({
      name: `photo ${i}`,
      inputs: [tensor],
    }));
    const outcome = await verifyConversion(tflite, conversion, photos, 0, 'small');
    assert.equal(outcome.ok, true, outcome.message);
    assert.deepEqual(outcome.batch, {
      ok: true,
      items: 3,
      message: "a batch of 3 photos gave each photo's own outputs",
    });
  });

  it('a graph claimed batchable that cannot run a batch: the model passes, its batching is off, saying why', async () => {
    const tflite = sharedModel('movenet_single_pose_lightning_ptq.tflite');
    const unbatched = convertTfliteToOnnx(tflite, 'movenet');
    // The claim is false (its batch dimension is fixed at 1): verification must catch it.
    const conversion = { ...unbatched, batch: { open: true } as const };
    const photos = (await photoTensors(rgb8(192))).map((tensor, i) => ({
      name: `photo ${i}`,
      inputs: [tensor],
    }));
    const outcome = await verifyConversion(tflite, conversion, photos, undefined, 'movenet');
    assert.equal(outcome.ok, true, outcome.message);
    assert.equal(outcome.batch?.ok, false);
    assert.match(outcome.batch?.message ?? '', /a batch of 3 failed to run/);
  });
});

describe('the batcher gathers concurrent runs of one model', () => {
  let model: OrtCompiledModel;
  let photos: TensorData[];
  let alone: TensorData[][];
  before(async () => {
    const conversion = convertTfliteToOnnx(sharedModel('mobilenet_v1_0.25_128_quant.tflite'), 'small');
    model = await OrtCompiledModel.compile(conversion.onnx, conversion, 'small', 1, undefined, true);
    photos = await photoTensors(rgb8(128));
    alone = [];
    for (const tensor of photos) alone.push(await model.run([tensor]));
  });
  after(() => model.dispose());

  const batcher = (maxBatchSize: number, maxQueueDelayMs: number, maxQueueSize = 64) =>
    new DynamicBatcher(model, { maxBatchSize, maxQueueDelayMs, maxQueueSize });

  it('a full batch runs at once, in one engine call, each request answered with its own outputs', async () => {
    // A delay far beyond the test's patience: only a full batch can start the run.
    const gathering = batcher(photos.length, 60_000);
    const started = performance.now();
    const answers = await Promise.all(photos.map((tensor) => gathering.run([tensor])));
    assert.ok(performance.now() - started < 30_000, 'ran without waiting for the delay');
    assert.deepEqual(gathering.stats, {
      batches: 1,
      batchedItems: photos.length,
      largestBatch: photos.length,
      fallbacks: 0,
    });
    answers.forEach((outputs, item) => {
      assert.deepEqual(outputs, alone[item], `item ${item}`);
    });
  });

  it('a lone request runs once the delay has passed, alone', async () => {
    const gathering = batcher(8, 300);
    const started = performance.now();
    const outputs = await gathering.run([photos[2] as TensorData]);
    const waited = performance.now() - started;
    // Timers never fire early; the upper bound only says it did not wait for a full batch.
    assert.ok(waited >= 290 && waited < 20_000, `waited ${waited} ms`);
    assert.deepEqual(outputs, alone[2]);
    assert.equal(gathering.stats.batches, 0);
  });

  it('batches hold at most maxBatchSize; the rest run in the next batch', async () => {
    const gathering = batcher(3, 60_000);
    const items = [...photos, ...photos, photos[0] as TensorData, photos[1] as TensorData]; // 10
    const answers = await Promise.all(items.slice(0, 9).map((tensor) => gathering.run([tensor])));
    assert.equal(gathering.stats.largestBatch, 3);
    assert.equal(gathering.stats.batches, 3);
    answers.forEach((outputs, item) => {
      assert.deepEqual(outputs, alone[item % photos.length]);
    });
  });

  it('a batch with one malformed request: that request gets its error, the others their answers', async () => {
    const gathering = batcher(3, 60_000);
    const settled = await Promise.allSettled([
      gathering.run([photos[0] as TensorData]),
      gathering.run([new Uint8Array(5)]),
      gathering.run([photos[1] as TensorData]),
    ]);
    assert.equal(gathering.stats.fallbacks, 1);
    assert.deepEqual(settled[0], { status: 'fulfilled', value: alone[0] });
    assert.equal(settled[1].status, 'rejected');
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /needs 49152 uint8 values, got 5/);
    assert.deepEqual(settled[2], { status: 'fulfilled', value: alone[1] });
  });

  it('the queue is bounded: a request beyond it is refused at once with 503', async () => {
    const gathering = batcher(8, 500, 2);
    const waiting = [gathering.run([photos[0] as TensorData]), gathering.run([photos[1] as TensorData])];
    await assert.rejects(
      gathering.run([photos[2] as TensorData]),
      (error: { status?: number; code?: string }) => {
        assert.equal(error.status, 503);
        assert.equal(error.code, 'overloaded');
        return true;
      },
    );
    // The two queued ones are still served (after the delay, together).
    assert.deepEqual(await Promise.all(waiting), [alone[0], alone[1]]);
    assert.equal(gathering.stats.largestBatch, 2);
  });

  it('a request whose caller gives up leaves the queue with the reason, and never runs', async () => {
    const gathering = batcher(8, 300);
    const controller = new AbortController();
    const abandoned = gathering.run([photos[0] as TensorData], controller.signal);
    const kept = gathering.run([photos[1] as TensorData]);
    controller.abort(new Error('deadline passed'));
    await assert.rejects(abandoned, /deadline passed/);
    assert.deepEqual(await kept, alone[1]);
    assert.equal(gathering.stats.batches, 0, 'the one left ran alone');
  });

  it('settings: off unless TFLITE_FN_BATCH_MAX > 1, limited to the models named, bad values refused', () => {
    assert.equal(batchingFor('imagenet', undefined, {}).maxBatchSize, 1);
    const env = { TFLITE_FN_BATCH_MAX: '8', TFLITE_FN_BATCH_DELAY_MS: '3' };
    assert.deepEqual(batchingFor('imagenet', undefined, env), {
      maxBatchSize: 8,
      maxQueueDelayMs: 3,
      maxQueueSize: 32,
    });
    const onlyBirds = { TFLITE_FN_BATCH_MAX: '8', TFLITE_FN_BATCH_MODELS: 'birds' };
    assert.equal(batchingFor('imagenet', undefined, onlyBirds).maxBatchSize, 1);
    assert.equal(batchingFor('birds', undefined, onlyBirds).maxBatchSize, 8);
    assert.throws(
      () => batchingFor('imagenet', undefined, { TFLITE_FN_BATCH_MAX: '100000' }),
      /from 1 to 64/,
    );
    assert.throws(() => serverConfig({ 'batch-delay-ms': '-1' }, {}), /--batch-delay-ms must be/);
  });

  it("settings: a model's batch: section is its setting; the environment, where set, overrides it", () => {
    const declared = { max_size: 4, max_queue_delay_ms: 20 };
    assert.deepEqual(batchingFor('birds', declared, {}), {
      maxBatchSize: 4,
      maxQueueDelayMs: 20,
      maxQueueSize: 16,
    });
    // Blank is unset (the server passes '' when its flags are not given).
    assert.equal(batchingFor('birds', declared, { TFLITE_FN_BATCH_MAX: ' ' }).maxBatchSize, 4);
    // Each variable overrides its own setting, for every model by default.
    assert.deepEqual(batchingFor('birds', declared, { TFLITE_FN_BATCH_DELAY_MS: '7' }), {
      maxBatchSize: 4,
      maxQueueDelayMs: 7,
      maxQueueSize: 16,
    });
    assert.equal(batchingFor('birds', declared, { TFLITE_FN_BATCH_MAX: '16' }).maxBatchSize, 16);
    assert.equal(
      batchingFor('birds', declared, { TFLITE_FN_BATCH_MAX: '1' }),
      BATCHING_OFF,
      '1 turns it off',
    );
    // A model TFLITE_FN_BATCH_MODELS does not name keeps its own setting.
    const onlyImagenet = { TFLITE_FN_BATCH_MAX: '1', TFLITE_FN_BATCH_MODELS: 'imagenet' };
    assert.equal(batchingFor('birds', declared, onlyImagenet).maxBatchSize, 4);
    assert.equal(batchingFor('imagenet', declared, onlyImagenet).maxBatchSize, 1);
    // The server's flags, not given, leave the descriptors to decide.
    const config = serverConfig({}, {});
    assert.equal(config.batchMax, undefined);
    assert.equal(config.batchDelayMs, undefined);
    assert.equal(serverConfig({ 'batch-max': '8' }, {}).batchMax, 8);
  });
});

describe('the server with batching on', () => {
  let server: RunningServer;
  before(async () => {
    // A long delay, so requests decoded at different moments on a loaded machine still meet.
    server = await startServer(
      serverConfig({ port: '0', workers: '2', 'batch-max': '8', 'batch-delay-ms': '200' }, {}),
      () => undefined,
    );
    await server.ready;
  });
  after(() => server.close());

  const classify = async (name: string) => {
    const response = await fetch(`${server.url}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: photo(name),
    });
    assert.equal(response.status, 200, name);
    const answer = (await response.json()) as { engine: string; top: unknown };
    assert.equal(answer.engine, 'ort', 'batching is for the native engine');
    return answer.top;
  };

  it("answers 32 concurrent requests for different photos, each with its own photo's answer", async () => {
    const names = [
      'grace_hopper.jpg',
      'pets.jpg',
      'food.jpg',
      'parrot.jpg',
      'hot_dog.jpg',
      'owl.jpg',
      'sunflower.jpg',
      'ladybug.jpg',
    ];
    const expected = new Map<string, unknown>();
    for (const name of names) expected.set(name, await classify(name));
    assert.equal(
      new Set([...expected.values()].map((v) => JSON.stringify(v))).size,
      names.length,
      'the photos differ',
    );
    const batchesBefore = server.pool.batching.batches;
    const requests = Array.from({ length: 32 }, (_, i) => names[(i * 3) % names.length] as string);
    const answers = await Promise.all(requests.map(classify));
    answers.forEach((predictions, i) => {
      assert.deepEqual(predictions, expected.get(requests[i] as string), `request ${i} (${requests[i]})`);
    });
    // 32 at once over 2 workers taking 8 each: some ran together.
    assert.ok(server.pool.batching.batches > batchesBefore, 'requests were batched');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /tflite_fn_batched_requests_total [1-9]/);
  });
});
