/**
 * The self-hosted server runs Open Inference Protocol requests in its worker pool, as it runs
 * task requests: the main process reads and checks the tensors, a worker runs the model
 * (batched with other requests when batching is on), and the main process never loads a
 * model for /v2. Real server, real workers, real HTTP over loopback.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { modelCacheDir } from '../src/store/paths.js';
import { photo } from './helpers.js';
import { type ClientInput, infer } from './oip-client.js';

/** A photo as the default model's input: 224x224 RGB, cropped to cover. */
async function pixelsOf(name: string, size = 224): Promise<ClientInput> {
  const raw = await sharp(photo(name)).resize(size, size, { fit: 'cover' }).removeAlpha().raw().toBuffer();
  return { name: 'input', shape: [1, size, size, 3], datatype: 'UINT8', values: new Uint8Array(raw) };
}

function argmax(values: readonly unknown[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

const PHOTOS = ['grace_hopper.jpg', 'pets.jpg', 'food.jpg', 'parrot.jpg', 'owl.jpg', 'sunflower.jpg'];

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(condition(), what);
}

describe('OIP /infer on the server runs in the worker pool', () => {
  let server: RunningServer;
  const inputs = new Map<string, ClientInput>();
  const expected = new Map<string, number>();
  const top = async (name: string) => {
    const answer = await infer(server.url, 'imagenet', [inputs.get(name) as ClientInput], {
      binaryInputs: true,
    });
    assert.equal(answer.status, 200, `${name}: ${JSON.stringify(answer.json)}`);
    return argmax(answer.outputs[0]?.values ?? []);
  };

  before(async () => {
    // A long delay, so requests checked at different moments on a loaded machine still meet.
    server = await startServer(
      serverConfig({ port: '0', workers: '2', 'batch-max': '8', 'batch-delay-ms': '200' }, {}),
      () => undefined,
    );
    await server.ready;
    for (const name of PHOTOS) inputs.set(name, await pixelsOf(name));
    for (const name of PHOTOS) expected.set(name, await top(name));
    assert.equal(new Set(expected.values()).size, PHOTOS.length, 'the photos have different answers');
  });
  after(() => server.close());

  it('the main process loads no model: metadata and inference come from the workers', async () => {
    const metadata = await fetch(`${server.url}/v2/models/imagenet`);
    assert.equal(metadata.status, 200);
    const { inputs: tensors } = (await metadata.json()) as { inputs: { name: string; shape: number[] }[] };
    // The workers' engine (onnxruntime, verified open batch dimension) runs any batch.
    assert.deepEqual(tensors[0]?.shape, [-1, 224, 224, 3]);
    assert.equal(server.catalog.isLoaded('imagenet'), false, 'the main process never loaded it');
  });

  it("a request of N items runs in a worker, beside single requests, each row its photo's own answer", async () => {
    const names = PHOTOS.slice(0, 4);
    const size = (inputs.get(names[0] as string) as ClientInput).values.length;
    const values = new Uint8Array(size * names.length);
    names.forEach((name, i) => {
      values.set((inputs.get(name) as ClientInput).values as Uint8Array, i * size);
    });
    const batch: ClientInput = {
      name: 'input',
      shape: [names.length, 224, 224, 3],
      datatype: 'UINT8',
      values,
    };
    const [answer, ...singles] = await Promise.all([
      infer(server.url, 'imagenet', [batch], { binaryInputs: true }),
      ...PHOTOS.map((name) => top(name)),
    ]);
    assert.equal(answer?.status, 200, JSON.stringify(answer?.json));
    assert.deepEqual(answer?.outputs[0]?.shape, [names.length, 1001]);
    const rows = names.map((_, i) =>
      argmax(answer?.outputs[0]?.values.slice(i * 1001, (i + 1) * 1001) ?? []),
    );
    assert.deepEqual(
      rows,
      names.map((name) => expected.get(name)),
    );
    assert.deepEqual(
      singles,
      PHOTOS.map((name) => expected.get(name)),
    );
  });

  it('concurrent requests with batching on are batched, and each gets its own answer', async () => {
    const batchesBefore = server.pool.batching.batches;
    const requests = Array.from({ length: 24 }, (_, i) => PHOTOS[(i * 5) % PHOTOS.length] as string);
    const answers = await Promise.all(requests.map(top));
    answers.forEach((index, i) => {
      assert.equal(index, expected.get(requests[i] as string), `request ${i} (${requests[i]})`);
    });
    assert.ok(server.pool.batching.batches > batchesBefore, 'requests were batched');
  });

  it('a worker killed while it holds requests: they are retried on another and answered', async () => {
    const [victim] = server.pool.pids as [number];
    // Stopped first, so it surely holds requests when it is killed, on any machine.
    process.kill(victim, 'SIGSTOP');
    try {
      const requests = Array.from({ length: 12 }, (_, i) => PHOTOS[i % PHOTOS.length] as string);
      const answers = Promise.all(requests.map(top));
      const held = () => server.pool.workerLoads.find((load) => load.pid === victim)?.light ?? 0;
      await until('the stopped worker was given requests', () => held() > 0);
      process.kill(victim, 'SIGKILL');
      (await answers).forEach((index, i) => {
        assert.equal(index, expected.get(requests[i] as string), `request ${i} (${requests[i]})`);
      });
    } finally {
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await until('a replacement is ready', () => server.pool.readyWorkers === 2);
    assert.ok(!server.pool.pids.includes(victim));
  });
});

describe('OIP /infer on the server with a model repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-oip-pool-'));
  // Two versions with different input sizes: a version run other than the one resolved fails.
  mkdirSync(join(dir, 'm', '1'), { recursive: true });
  mkdirSync(join(dir, 'm', '2'));
  copyFileSync(
    join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite'),
    join(dir, 'm', '1', 'model.tflite'),
  );
  copyFileSync(
    join(modelCacheDir(), 'mobilenet_v2_1.0_224_quant.tflite'),
    join(dir, 'm', '2', 'model.tflite'),
  );
  let server: RunningServer;
  before(async () => {
    server = await startServer(
      serverConfig({ port: '0', workers: '1', preload: 'imagenet', 'model-repository': dir }, {}),
      () => undefined,
    );
    await server.ready;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the worker runs the version the main process resolved: by URL, and the newest by default', async () => {
    const small = await pixelsOf('grace_hopper.jpg', 128);
    const large = await pixelsOf('grace_hopper.jpg', 224);
    const one = await infer(server.url, 'm', [small], { binaryInputs: true, version: '1' });
    assert.equal(one.status, 200, JSON.stringify(one.json));
    assert.equal(one.json.model_version, '1');
    const newest = await infer(server.url, 'm', [large], { binaryInputs: true });
    assert.equal(newest.status, 200, JSON.stringify(newest.json));
    assert.equal(newest.json.model_version, '2');
    // A worker running the other version would have refused the tensors (their sizes differ).
    assert.deepEqual(one.outputs[0]?.shape, [1, 1001]);
    assert.deepEqual(newest.outputs[0]?.shape, [1, 1001]);
    const wrong = await infer(server.url, 'm', [small], { binaryInputs: true, version: '2' });
    assert.equal(wrong.status, 400, 'version 2 takes 224x224');
  });
});
