/**
 * The self-hosted server remembers each /v2 model version's signature (its tensors, and whether
 * a request may hold several items) in its main process. What it remembers must follow what the
 * signature is made of: the engine the workers run the version on (a conversion stored while
 * the server runs moves it from LiteRT, one item per run, to onnxruntime, any batch) and the
 * version's content (a new model.tflite and config.yaml in the same version folder).
 *
 * Over loopback, with a model repository and a cache folder of this test's own (the models and
 * photos linked from the real cache, the conversions empty), changed the way a user changes them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { CACHE_DIR } from '../src/config/index.js';
import { cacheDir, modelCacheDir } from '../src/store/paths.js';
import { CLI } from './helpers.js';
import { type ClientInput, infer } from './oip-client.js';

const MODELS = modelCacheDir();
const SAMPLES = join(cacheDir(), 'samples');
const LABELS = join(MODELS, 'imagenet_labels.txt');
const SMALL = {
  file: 'mobilenet_v1_0.25_128_quant.tflite',
  size: 128,
  output: 'MobilenetV1/Predictions/Reshape_1',
};
const LARGE = {
  file: 'mobilenet_v2_1.0_224_quant.tflite',
  size: 224,
  output: 'MobilenetV2/Predictions/Softmax',
};

const configFor = (model: typeof SMALL) => `task: classify
input: { name: input, width: ${model.size}, height: ${model.size}, format: rgb8 }
output: { name: ${model.output}, labels: { file: labels.txt } }
`;

/** `items` images of zeros, the size the model takes. */
const zeros = (size: number, items: number): ClientInput => ({
  name: 'input',
  shape: [items, size, size, 3],
  datatype: 'UINT8',
  values: new Uint8Array(items * size * size * 3),
});

/** Asks until `done` says yes; fails, with the last answer, past a wide bound (polls take ~1 s). */
async function eventually<T>(ask: () => Promise<T>, done: (answer: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await ask();
    if (done(answer)) return answer;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("the server's memory of a repository version's signature", () => {
  const root = mkdtempSync(join(tmpdir(), 'tflite-fn-signatures-'));
  const cache = join(root, 'cache');
  const repository = join(root, 'repository');
  mkdirSync(join(cache, 'onnx'), { recursive: true });
  symlinkSync(MODELS, join(cache, 'models'));
  symlinkSync(SAMPLES, join(cache, 'samples'));
  const versionFolder = join(repository, 'small', '1');
  mkdirSync(versionFolder, { recursive: true });
  copyFileSync(LABELS, join(repository, 'small', 'labels.txt'));
  writeFileSync(join(repository, 'small', 'config.yaml'), configFor(SMALL));
  copyFileSync(join(MODELS, SMALL.file), join(versionFolder, 'model.tflite'));

  let server: RunningServer;
  let restoreCache: () => void;
  before(async () => {
    // This process (the main process's view of conversions) and the workers it starts.
    restoreCache = CACHE_DIR.override(cache);
    server = await startServer(
      serverConfig({ port: '0', workers: '1', preload: '', 'model-repository': repository }, {}),
      () => undefined,
    );
    await server.ready;
  });
  after(async () => {
    await server.close();
    restoreCache();
    rmSync(root, { recursive: true, force: true });
  });

  const metadataShape = async () => {
    const response = await fetch(`${server.url}/v2/models/small/versions/1`);
    const body = (await response.json()) as { inputs?: { shape: number[] }[] };
    return body.inputs?.[0]?.shape;
  };

  it('lets requests of several items in once a conversion is stored while it serves', async () => {
    // On LiteRT (no conversion yet): one item per request, and the metadata says so.
    assert.deepEqual(await metadataShape(), [1, SMALL.size, SMALL.size, 3]);
    const refused = await infer(server.url, 'small', [zeros(SMALL.size, 2)], { version: '1' });
    assert.equal(refused.status, 400);
    assert.match(String(refused.json.error), /litert/);

    const converted = spawnSync(process.execPath, [CLI, 'convert', '--model-repository', repository], {
      env: { ...process.env, TFLITE_FN_CACHE_DIR: cache },
      encoding: 'utf8',
    });
    assert.equal(converted.status, 0, converted.stderr);
    assert.match(converted.stdout, /small\/1: converted and verified/);

    // The workers move the version to onnxruntime at their next poll; the server follows.
    await eventually(metadataShape, (shape) => shape?.[0] === -1, 'the metadata after the conversion');
    const batched = await eventually(
      () => infer(server.url, 'small', [zeros(SMALL.size, 2)], { version: '1' }),
      (answer) => answer.status === 200,
      'a request of 2 items after the conversion',
    );
    assert.deepEqual(batched.outputs[0]?.shape, [2, 1001]);
  });

  it('checks requests against the new content once a model is replaced in the same version folder', async () => {
    copyFileSync(join(MODELS, LARGE.file), join(versionFolder, 'model.tflite'));
    writeFileSync(join(repository, 'small', 'config.yaml'), configFor(LARGE));
    await eventually(
      metadataShape,
      (shape) => shape?.[1] === LARGE.size,
      'the metadata after the model was replaced',
    );
    const answer = await infer(server.url, 'small', [zeros(LARGE.size, 1)], { version: '1' });
    assert.equal(answer.status, 200, String(answer.json.error));
    const stale = await infer(server.url, 'small', [zeros(SMALL.size, 1)], { version: '1' });
    assert.equal(stale.status, 400, 'the old shape is refused');
  });
});
