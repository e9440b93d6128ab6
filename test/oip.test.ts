/**
 * The Open Inference Protocol on the self-hosted server, over real HTTP on loopback: requests
 * and answers shaped as the protocol's published examples (KServe's required API, Triton's
 * binary data and classification extensions), a client written from those documents
 * (oip-client.ts) running the default model on a photo decoded by sharp, and hostile requests,
 * each answered with the protocol's {"error"} and a status that means it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import sharp from 'sharp';
import { serverConfig } from '../handlers/server/config.js';
import { Metrics } from '../handlers/server/metrics.js';
import { observeRequests } from '../handlers/server/request-log.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { classify } from '../src/classify.js';
import type { TfliteFnError } from '../src/errors.js';
import { createApp } from '../src/http/app.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { repositorySource } from '../src/model/repository.js';
import { inferRequestOf, JSON_HEADER_MAX_BYTES } from '../src/oip/infer-request.js';
import { inputTensors, MAX_ITEMS } from '../src/oip/input-tensors.js';
import { catalogSource } from '../src/oip/model-source.js';
import { runOnEngine } from '../src/oip/tensor-runner.js';
import { packageRoot } from '../src/store/paths.js';
import { IMAGES } from './helpers.js';
import { type ClientInput, decodeInferResponse, encodeInferRequest, infer } from './oip-client.js';
import { buildTflite, FLOAT32 } from './tflite-builder.js';

const SCORES = 'MobilenetV2/Predictions/Softmax';
/** TFLite's TensorType INT64 and BuiltinOperator CAST (schema.fbs). */
const INT64 = 4;
const CAST = 53;
const IMAGE_SHAPE = [1, 224, 224, 3] as const;

/** A photo as the default model's input: 224x224 RGB, cropped to cover (its descriptor's resize). */
async function pixelsOf(name: string): Promise<Uint8Array> {
  const raw = await sharp(join(IMAGES, name))
    .resize(224, 224, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(raw);
}

const gracePixels = () => pixelsOf('grace_hopper.jpg');

const imageInput = (values: Uint8Array): ClientInput => ({
  name: 'input',
  shape: IMAGE_SHAPE,
  datatype: 'UINT8',
  values,
});

function argmax(values: readonly unknown[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** The protocol's error object: one string, no stack, no host path. */
async function assertOipError(response: Response, status: number, pattern?: RegExp): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error'], text);
  assert.equal(typeof body.error, 'string');
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
  assert.ok(!text.includes(packageRoot()), 'no host path');
  if (pattern) assert.match(body.error as string, pattern);
  return body.error as string;
}

describe('Open Inference Protocol on the self-hosted server', () => {
  let server: RunningServer;
  let pixels: Uint8Array;
  let expectedIndex: number;
  const url = (path: string) => `${server.url}${path}`;
  const post = (path: string, body: Uint8Array | string, headers: Record<string, string>) =>
    fetch(url(path), { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer> | string });

  before(async () => {
    server = await startServer(
      serverConfig({ port: '0', workers: '1', preload: 'imagenet' }, {}),
      () => undefined,
    );
    await server.ready;
    pixels = await gracePixels();
    expectedIndex = (await classify(await sharp(join(IMAGES, 'grace_hopper.jpg')).toBuffer())).index;
  });
  after(() => server.close());

  describe('as the published examples show it', () => {
    it('server metadata: {name, version, extensions} with both extensions', async () => {
      const response = await fetch(url('/v2'));
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['extensions', 'name', 'version']);
      assert.equal(typeof body.name, 'string');
      assert.equal(typeof body.version, 'string');
      assert.deepEqual(body.extensions, ['binary_tensor_data', 'classification']);
    });

    it('health: 200 with an empty body for live, ready and a model ready; 404 for an unknown model', async () => {
      for (const path of [
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/imagenet/ready',
        '/v2/models/imagenet/versions/1/ready',
        '/api/v2/health/live',
      ]) {
        const response = await fetch(url(path));
        assert.equal(response.status, 200, path);
        assert.equal(await response.text(), '', path);
      }
      assert.equal((await fetch(url('/v2/models/nope/ready'))).status, 404);
    });

    it('model metadata: name, versions, platform, and every tensor with datatype and shape', async () => {
      for (const path of [
        '/v2/models/imagenet',
        '/v2/models/imagenet/versions/1',
        '/api/v2/models/imagenet',
      ]) {
        const response = await fetch(url(path));
        assert.equal(response.status, 200, path);
        const body = (await response.json()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body).sort(), ['inputs', 'name', 'outputs', 'platform', 'versions']);
        assert.equal(body.name, 'imagenet');
        assert.deepEqual(body.versions, ['1']);
        // Its engine (onnxruntime, a verified open batch dimension) runs any batch: -1 there.
        assert.deepEqual(body.inputs, [{ name: 'input', datatype: 'UINT8', shape: [-1, 224, 224, 3] }]);
        assert.deepEqual(body.outputs, [{ name: SCORES, datatype: 'UINT8', shape: [-1, 1001] }]);
      }
    });

    it('inference request with "id" and one named output → the response echoes the id, model and version', async () => {
      // The required API's example: JSON data, `outputs: [{"name": ...}]`, "id": "42".
      const answer = await infer(server.url, 'imagenet', [imageInput(pixels)], {
        id: '42',
        outputs: [{ name: SCORES }],
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.json.id, '42');
      assert.equal(answer.json.model_name, 'imagenet');
      assert.equal(answer.json.model_version, '1');
      assert.deepEqual(
        answer.outputs.map(({ name, shape, datatype, binary }) => ({ name, shape, datatype, binary })),
        [{ name: SCORES, shape: [1, 1001], datatype: 'UINT8', binary: false }],
      );
      assert.equal(answer.outputs[0]?.values.length, 1001);
      assert.equal(argmax(answer.outputs[0]?.values ?? []), expectedIndex, "classify()'s top class");
    });

    it('binary tensor data: JSON then bytes in, binary_data output → octet-stream with Inference-Header-Content-Length', async () => {
      const answer = await infer(server.url, 'imagenet', [imageInput(pixels)], {
        binaryInputs: true,
        outputs: [{ name: SCORES, binary: true }],
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('content-type'), 'application/octet-stream');
      const output = answer.outputs[0];
      assert.equal(output?.binary, true);
      assert.deepEqual((answer.json.outputs as { parameters: unknown }[])[0]?.parameters, {
        binary_data_size: 1001,
      });
      assert.equal(argmax(output?.values ?? []), expectedIndex);
      // The same tensor as JSON: identical values.
      const asJson = await infer(server.url, 'imagenet', [imageInput(pixels)], { binaryInputs: true });
      assert.equal(asJson.outputs[0]?.binary, false);
      assert.deepEqual(asJson.outputs[0]?.values, output?.values);
      // binary_data_output on the request: every output binary unless one says otherwise.
      const all = await infer(server.url, 'imagenet', [imageInput(pixels)], {
        binaryInputs: true,
        parameters: { binary_data_output: true },
      });
      assert.equal(all.outputs[0]?.binary, true);
      assert.deepEqual(all.outputs[0]?.values, output?.values);
      const overridden = await infer(server.url, 'imagenet', [imageInput(pixels)], {
        binaryInputs: true,
        parameters: { binary_data_output: true },
        outputs: [{ name: SCORES, binary: false }],
      });
      assert.equal(overridden.outputs[0]?.binary, false);
    });

    it('classification: K → BYTES [1, K] "value:index:label", best first, the top one classify()\'s', async () => {
      for (const binary of [false, true]) {
        const answer = await infer(server.url, 'imagenet', [imageInput(pixels)], {
          binaryInputs: true,
          outputs: [{ name: SCORES, classification: 2, binary }],
        });
        assert.equal(answer.status, 200);
        const output = answer.outputs[0];
        assert.equal(output?.datatype, 'BYTES');
        assert.deepEqual(output?.shape, [1, 2]);
        const [first, second] = (output?.values ?? []) as string[];
        assert.match(first ?? '', /^\d+:\d+:.+$/);
        const [value, index, label] = (first ?? '').split(':');
        assert.equal(Number(index), expectedIndex);
        assert.equal(label, 'military uniform');
        assert.ok(Number(value) >= Number((second ?? '').split(':')[0]), 'best first');
      }
    });

    it('concurrent requests each get their own answer (two photos, interleaved)', async () => {
      const parrot = new Uint8Array(
        await sharp(join(IMAGES, 'parrot.jpg'))
          .resize(224, 224, { fit: 'cover' })
          .removeAlpha()
          .raw()
          .toBuffer(),
      );
      const parrotIndex = (await classify(await sharp(join(IMAGES, 'parrot.jpg')).toBuffer())).index;
      assert.notEqual(parrotIndex, expectedIndex, 'two photos with different answers');
      const photos = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? pixels : parrot));
      const answers = await Promise.all(
        photos.map((values) => infer(server.url, 'imagenet', [imageInput(values)], { binaryInputs: true })),
      );
      for (const [i, answer] of answers.entries()) {
        assert.equal(answer.status, 200);
        assert.equal(
          argmax(answer.outputs[0]?.values ?? []),
          i % 2 === 0 ? expectedIndex : parrotIndex,
          `request ${i}`,
        );
      }
    });

    it("a batch: [3, 224, 224, 3] runs three photos, outputs [3, 1001] each row its photo's own, classification [3, K]", async () => {
      const parrot = await pixelsOf('parrot.jpg');
      const photos = [pixels, parrot, pixels];
      const batch = new Uint8Array(photos.length * pixels.length);
      photos.forEach((photo, i) => {
        batch.set(photo, i * pixels.length);
      });
      const input: ClientInput = { name: 'input', shape: [3, 224, 224, 3], datatype: 'UINT8', values: batch };
      const singles = await Promise.all(
        photos.map((photo) => infer(server.url, 'imagenet', [imageInput(photo)], { binaryInputs: true })),
      );
      for (const binaryInputs of [true, false]) {
        const answer = await infer(server.url, 'imagenet', [input], { binaryInputs });
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        const output = answer.outputs[0];
        assert.deepEqual(output?.shape, [3, 1001]);
        assert.equal(output?.values.length, 3 * 1001);
        for (const [i, single] of singles.entries())
          assert.deepEqual(
            output?.values.slice(i * 1001, (i + 1) * 1001),
            single.outputs[0]?.values,
            `row ${i}`,
          );
      }
      const classes = await infer(server.url, 'imagenet', [input], {
        binaryInputs: true,
        outputs: [{ name: SCORES, classification: 2 }],
      });
      assert.equal(classes.status, 200);
      assert.deepEqual(classes.outputs[0]?.shape, [3, 2]);
      const labels = ((classes.outputs[0]?.values ?? []) as string[]).map((text) => text.split(':')[2]);
      assert.equal(labels[0], 'military uniform');
      assert.equal(labels[4], 'military uniform');
      assert.notEqual(labels[2], 'military uniform', "the parrot's row");
    });

    it('a model whose engine takes one item: metadata [1, ...], a batch of 2 → 400 saying why', async () => {
      // MoveNet's conversion has no open batch dimension (a reshape to [1] in its graph).
      const meta = (await (await fetch(url('/v2/models/movenet'))).json()) as {
        inputs: { name: string; shape: number[]; datatype: string }[];
      };
      const input = meta.inputs[0];
      assert.deepEqual(input?.shape, [1, 192, 192, 3]);
      const values = new Uint8Array(2 * 192 * 192 * 3);
      const answer = await infer(
        server.url,
        'movenet',
        [{ name: input?.name ?? '', shape: [2, 192, 192, 3], datatype: 'UINT8', values }],
        { binaryInputs: true },
      );
      assert.equal(answer.status, 400);
      assert.match(
        String(answer.json.error),
        /one item per request, because .*batch dimension.*sends 2 items/,
      );
      const one = await infer(
        server.url,
        'movenet',
        [
          {
            name: input?.name ?? '',
            shape: [1, 192, 192, 3],
            datatype: 'UINT8',
            values: values.subarray(0, 192 * 192 * 3),
          },
        ],
        { binaryInputs: true },
      );
      assert.equal(one.status, 200, JSON.stringify(one.json));
    });

    it('the versioned and /api paths infer too', async () => {
      const answer = await infer(server.url, 'imagenet', [imageInput(pixels)], {
        binaryInputs: true,
        version: '1',
      });
      assert.equal(answer.status, 200);
      const { body, headers } = encodeInferRequest([imageInput(pixels)], undefined, { binaryInputs: true });
      const api = await decodeInferResponse(await post('/api/v2/models/imagenet/infer', body, headers));
      assert.equal(api.status, 200);
      assert.equal(argmax(api.outputs[0]?.values ?? []), expectedIndex);
    });

    it('an FP32 model: nested JSON data and binary data give the same outputs', async () => {
      const meta = (await (await fetch(url('/v2/models/faces-short'))).json()) as {
        inputs: { name: string; shape: number[]; datatype: string }[];
      };
      // One item: the open batch dimension (-1) as 1, as a client fills it in.
      const described = meta.inputs[0];
      assert.equal(described?.shape[0], -1);
      const input = described && {
        ...described,
        shape: described.shape.map((size) => (size < 0 ? 1 : size)),
      };
      assert.equal(input?.datatype, 'FP32');
      const size = (input?.shape ?? []).reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, (_, i) => ((i * 37) % 255) / 127.5 - 1);
      const tensor: ClientInput = {
        name: input?.name ?? '',
        shape: input?.shape ?? [],
        datatype: 'FP32',
        values,
      };
      const binary = await infer(server.url, 'faces-short', [tensor], { binaryInputs: true });
      assert.equal(binary.status, 200, JSON.stringify(binary.json));
      // Nested in the shape's own form ([1][128][128][3]), as the protocol allows.
      const [, height = 0, width = 0, channels = 0] = input?.shape ?? [];
      const nested = [
        Array.from({ length: height }, (_, y) =>
          Array.from({ length: width }, (_, x) =>
            Array.from(values.subarray((y * width + x) * channels, (y * width + x + 1) * channels)),
          ),
        ),
      ];
      const request = {
        inputs: [{ name: input?.name, shape: input?.shape, datatype: 'FP32', data: nested }],
      };
      const json = await decodeInferResponse(
        await post('/v2/models/faces-short/infer', JSON.stringify(request), {
          'content-type': 'application/json',
        }),
      );
      assert.equal(json.status, 200);
      assert.equal(json.outputs.length, binary.outputs.length);
      for (const [i, output] of json.outputs.entries())
        assert.deepEqual(output.values, binary.outputs[i]?.values);
    });
  });

  describe("hostile and wrong requests: the right status, the protocol's error object", () => {
    const binaryRequest = (inputs: object[], header?: string, tail: Uint8Array = new Uint8Array(0)) => {
      const json = new TextEncoder().encode(JSON.stringify({ inputs }));
      const body = new Uint8Array(json.length + tail.length);
      body.set(json);
      body.set(tail, json.length);
      return post('/v2/models/imagenet/infer', body, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': header ?? String(json.length),
      });
    };
    const jsonRequest = (request: unknown, model = 'imagenet') =>
      post(`/v2/models/${model}/infer`, JSON.stringify(request), { 'content-type': 'application/json' });
    const input = (extra: object) => ({
      name: 'input',
      shape: [...IMAGE_SHAPE],
      datatype: 'UINT8',
      ...extra,
    });

    it("wrong shape → 400 naming the model's", async () => {
      await assertOipError(
        await binaryRequest(
          [input({ shape: [1, 224, 224, 4], parameters: { binary_data_size: 224 * 224 * 4 } })],
          undefined,
          new Uint8Array(224 * 224 * 4),
        ),
        400,
        /shape \[-1, 224, 224, 3\]/,
      );
    });

    it("wrong datatype → 400 naming the model's; an unknown datatype → 400", async () => {
      await assertOipError(
        await binaryRequest(
          [input({ datatype: 'FP32', parameters: { binary_data_size: pixels.length * 4 } })],
          undefined,
          new Uint8Array(pixels.length * 4),
        ),
        400,
        /input 'input' data-type is 'FP32', but the model expects 'UINT8'/,
      );
      await assertOipError(await jsonRequest({ inputs: [input({ datatype: 'FLOAT', data: [1] })] }), 400);
    });

    it('every other datatype of the protocol → 400 naming both, JSON and binary alike; BYTES → 400: no model takes strings', async () => {
      const count = pixels.length;
      const others: ClientInput['values'][] = [
        new Uint16Array(count),
        new Uint32Array(count),
        new BigUint64Array(count),
        new Int8Array(count),
        new Int16Array(count),
        new Int32Array(count),
        new BigInt64Array(count),
        new Uint16Array(count),
        new Float32Array(count),
        new Float64Array(count),
        new Uint8Array(count),
      ];
      const datatypes = [
        'UINT16',
        'UINT32',
        'UINT64',
        'INT8',
        'INT16',
        'INT32',
        'INT64',
        'FP16',
        'FP32',
        'FP64',
        'BOOL',
      ] as const;
      for (const [i, datatype] of datatypes.entries()) {
        const tensor: ClientInput = {
          name: 'input',
          shape: IMAGE_SHAPE,
          datatype,
          values: others[i] as ClientInput['values'],
        };
        for (const binaryInputs of [true, false]) {
          const answer = await infer(server.url, 'imagenet', [tensor], { binaryInputs });
          assert.equal(answer.status, 400, `${datatype} ${binaryInputs}`);
          assert.equal(
            answer.json.error,
            `input 'input' data-type is '${datatype}', but the model expects 'UINT8'`,
          );
        }
      }
      await assertOipError(
        await jsonRequest({ inputs: [input({ datatype: 'BYTES', shape: [1], data: ['a photo'] })] }),
        400,
        /data-type is 'BYTES', but the model expects 'UINT8': no model here takes strings/,
      );
      await assertOipError(
        await binaryRequest(
          [input({ datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 11 } })],
          undefined,
          new Uint8Array(11),
        ),
        400,
        /no model here takes strings/,
      );
    });

    it("FP32 JSON values past float32's range → 400 naming the element (they would be Infinity)", async () => {
      const meta = (await (await fetch(url('/v2/models/faces-short'))).json()) as {
        inputs: { name: string; shape: number[] }[];
      };
      const shape = (meta.inputs[0]?.shape ?? []).map((size) => (size < 0 ? 1 : size));
      const data = new Array(shape.reduce((a, b) => a * b, 1)).fill(0);
      data[5] = 1e39;
      await assertOipError(
        await jsonRequest(
          { inputs: [{ name: meta.inputs[0]?.name, shape, datatype: 'FP32', data }] },
          'faces-short',
        ),
        400,
        /element 5 is 1e\+39, not a FP32/,
      );
    });

    it('data shorter or longer than the shape → 400, JSON and binary alike', async () => {
      await assertOipError(await jsonRequest({ inputs: [input({ data: [1, 2, 3] })] }), 400, /3 elements/);
      await assertOipError(
        await jsonRequest({ inputs: [input({ data: new Array(pixels.length + 1).fill(0) })] }),
        400,
        /more than/,
      );
      await assertOipError(
        await jsonRequest({ inputs: [input({ data: new Array(pixels.length).fill(256) })] }),
        400,
        /not a UINT8/,
      );
      const short = pixels.subarray(0, pixels.length - 1);
      await assertOipError(
        await binaryRequest([input({ parameters: { binary_data_size: pixels.length } })], undefined, short),
        400,
        /short/,
      );
      const long = new Uint8Array(pixels.length + 5);
      await assertOipError(
        await binaryRequest([input({ parameters: { binary_data_size: pixels.length } })], undefined, long),
        400,
        /5 bytes/,
      );
      await assertOipError(
        await binaryRequest([input({ parameters: { binary_data_size: 10 } })], undefined, new Uint8Array(10)),
        400,
        /binary_data_size is 10/,
      );
    });

    it('a huge shape → 413 from its numbers alone, and the server keeps serving', async () => {
      const before = process.memoryUsage().rss;
      await assertOipError(
        await jsonRequest({ inputs: [input({ shape: [1e6, 1e6, 1e6, 3], data: [0] })] }),
        413,
        /would be over/,
      );
      await assertOipError(
        await binaryRequest([
          input({ shape: [2 ** 40, 2 ** 40], parameters: { binary_data_size: 2 ** 50 } }),
        ]),
        413,
      );
      assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024, 'nothing of that size was allocated');
      const answer = await infer(server.url, 'imagenet', [imageInput(pixels)], { binaryInputs: true });
      assert.equal(answer.status, 200);
    });

    it('a bad Inference-Header-Content-Length → 400: not a number, zero, longer than the body', async () => {
      const inputs = [input({ parameters: { binary_data_size: pixels.length } })];
      for (const header of ['abc', '-5', '0', '99999999', '1e3']) {
        await assertOipError(
          await binaryRequest(inputs, header, pixels),
          400,
          /Inference-Header-Content-Length/,
        );
      }
      // A length that cuts the JSON short: its first part is not JSON.
      await assertOipError(await binaryRequest(inputs, '10', pixels), 400, /not valid JSON/);
    });

    it('not JSON, no inputs, both or neither of data and binary_data_size, an unknown input or output → 400', async () => {
      await assertOipError(
        await post('/v2/models/imagenet/infer', '{"inputs": [', { 'content-type': 'application/json' }),
        400,
      );
      await assertOipError(await jsonRequest({ inputs: [] }), 400);
      await assertOipError(
        await jsonRequest({ inputs: [input({ data: [1], parameters: { binary_data_size: 1 } })] }),
        400,
      );
      await assertOipError(await jsonRequest({ inputs: [input({})] }), 400);
      await assertOipError(
        await jsonRequest({ inputs: [input({ name: 'other', data: [1] })] }),
        400,
        /no input 'other'/,
      );
      await assertOipError(
        await jsonRequest({ inputs: [input({ data: Array.from(pixels) })], outputs: [{ name: 'nope' }] }),
        400,
        /no output 'nope'/,
      );
      await assertOipError(
        await jsonRequest({
          inputs: [input({ data: Array.from(pixels) })],
          outputs: [{ name: SCORES, parameters: { classification: 0 } }],
        }),
        400,
        /classification/,
      );
    });

    it(`more JSON than is parsed (${JSON_HEADER_MAX_BYTES} bytes) → 413 naming the binary extension, declared or not`, async () => {
      const padding = ' '.repeat(JSON_HEADER_MAX_BYTES);
      const json = `{"inputs": [{"name": "input", "shape": [1], "datatype": "UINT8", "data": [1]}]${padding}}`;
      await assertOipError(
        await post('/v2/models/imagenet/infer', json, { 'content-type': 'application/json' }),
        413,
        /binary/,
      );
      const bytes = new TextEncoder().encode(json);
      await assertOipError(
        await post('/v2/models/imagenet/infer', bytes, {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(bytes.length),
        }),
        413,
        /binary/,
      );
    });

    it('an unknown model or version → 404; a body too large for the platform → 413; text/plain → 415', async () => {
      await assertOipError(
        await jsonRequest({ inputs: [input({ data: [1] })] }, 'nope'),
        404,
        /unknown model/,
      );
      await assertOipError(
        await jsonRequest({ inputs: [input({ data: [1] })] }, 'imagenet/versions/7'),
        404,
        /no version '7'/,
      );
      await assertOipError(await fetch(url('/v2/models/nope')), 404);
      // Paths under /v2 that no route serves, and a method a route does not take, on the server too.
      await assertOipError(await fetch(url('/v2/repository')), 404, /no route GET \/v2\/repository/);
      await assertOipError(await fetch(url('/api/v2/models/imagenet/infer/x'), { method: 'POST' }), 404);
      const put = await fetch(url('/v2/models/imagenet/infer'), { method: 'PUT', body: '{}' });
      assert.equal(put.headers.get('allow'), 'POST');
      await assertOipError(put, 405, /PUT \/v2\/models\/imagenet\/infer: use POST/);
      const tooBig = new Uint8Array(BODY_LIMITS.server.maxBytes + 1);
      await assertOipError(
        await post('/v2/models/imagenet/infer', tooBig, {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': '2',
        }),
        413,
      );
      await assertOipError(
        await post('/v2/models/imagenet/infer', 'hello', { 'content-type': 'text/plain' }),
        415,
      );
    });
  });
});

describe('Open Inference Protocol: a model that is not ready', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-oip-'));
  writeFileSync(join(dir, 'broken.yaml'), 'model: { file: missing.tflite }\ninput: { width: 0 }\n');
  const catalog = new ModelCatalog({ dirs: [dir], warmUp: false });
  const app = createApp({ catalog, corsOrigins: [], logError: () => undefined });
  after(async () => {
    await catalog.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = (path: string, init?: RequestInit) => app.fetch(new Request(`http://localhost${path}`, init));

  it("its ready route and the server's say 400; its infer and metadata say 503 with the reason", async () => {
    assert.equal((await call('/v2/models/broken/ready')).status, 400);
    assert.equal((await call('/v2/health/ready')).status, 400, 'not every model is ready');
    assert.equal((await call('/v2/health/live')).status, 200);
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'UINT8', data: [1] }] });
    const response = await call('/v2/models/broken/infer', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    const message = await assertOipError(response, 503, /not ready|unavailable/);
    assert.match(message, /invalid model descriptor/);
    assert.ok(response.headers.get('retry-after'));
    await assertOipError(await call('/v2/models/broken'), 503);
  });
});

describe('Open Inference Protocol: why no model here has INT64, FP16, BOOL… tensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-oip-int64-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a repository model with an INT64 output is not ready, LiteRT saying it does not take INT64 tensors', async () => {
    // An image in, its pixels cast to int64 out: valid TFLite that LiteRT.js will not compile
    // (its tensors hand in and out uint8, int32 and float32 only), and the native engine runs
    // only conversions verified against LiteRT.
    const model = buildTflite({
      tensors: [
        { name: 'image', shape: [1, 8, 8, 3], type: FLOAT32 },
        { name: 'counts', shape: [1, 8, 8, 3], type: INT64 },
      ],
      operators: [{ code: CAST, inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    });
    mkdirSync(join(dir, 'counts', '1'), { recursive: true });
    writeFileSync(join(dir, 'counts', '1', 'model.tflite'), model);
    const repository = repositorySource(dir, { pollMs: 0 });
    try {
      await repository.settled();
      const app = createApp({ modelSource: repository, corsOrigins: [], logError: () => undefined });
      const call = (path: string) => app.fetch(new Request(`http://localhost${path}`));
      assert.equal((await call('/v2/models/counts/ready')).status, 400);
      await assertOipError(await call('/v2/models/counts'), 503, /Element type INT64 is not supported/);
    } finally {
      repository.close();
    }
  });
});

describe('Open Inference Protocol: a model on litert takes one item per request', () => {
  const catalog = new ModelCatalog({ warmUp: false, engine: 'litert' });
  const app = createApp({
    catalog,
    modelSource: catalogSource(catalog),
    corsOrigins: [],
    logError: () => undefined,
  });
  after(() => catalog.dispose());

  it('metadata [1, ...]; [2, ...] → 400 naming litert; [1, ...] → 200', async () => {
    const meta = (await (
      await app.fetch(new Request('http://localhost/v2/models/imagenet-small'))
    ).json()) as {
      inputs: { shape: number[] }[];
      outputs: { shape: number[] }[];
    };
    assert.deepEqual(meta.inputs[0]?.shape, [1, 128, 128, 3]);
    assert.deepEqual(meta.outputs[0]?.shape, [1, 1001]);
    const send = (items: number) => {
      const { body, headers } = encodeInferRequest(
        [
          {
            name: 'input',
            shape: [items, 128, 128, 3],
            datatype: 'UINT8',
            values: new Uint8Array(items * 128 * 128 * 3),
          },
        ],
        undefined,
        { binaryInputs: true },
      );
      return app.fetch(
        new Request('http://localhost/v2/models/imagenet-small/infer', {
          method: 'POST',
          headers,
          body: body as Uint8Array<ArrayBuffer>,
        }),
      );
    };
    await assertOipError(await send(2), 400, /one item per request, because it runs on litert/);
    const one = await decodeInferResponse(await send(1));
    assert.equal(one.status, 200);
    assert.deepEqual(one.outputs[0]?.shape, [1, 1001]);
  });

  it("runOnEngine: items on an engine that runs one at a time (a worker behind on a version's conversion) each get their own outputs", async () => {
    const loaded = await catalog.load('imagenet-small');
    assert.equal(loaded.engineName, 'litert');
    const size = 128 * 128 * 3;
    const first = Uint8Array.from({ length: size }, (_, i) => (i * 7) % 256);
    const second = Uint8Array.from({ length: size }, (_, i) => (i * 13 + 5) % 256);
    const both = new Uint8Array(2 * size);
    both.set(first);
    both.set(second, size);
    const [joined] = await runOnEngine(loaded.engine, [both]);
    const [alone1] = await loaded.engine.run([first]);
    const [alone2] = await loaded.engine.run([second]);
    assert.notDeepEqual(alone1, alone2, 'two inputs with different answers');
    assert.deepEqual(joined, Uint8Array.from([...(alone1 as Uint8Array), ...(alone2 as Uint8Array)]));
  });
});

describe('Open Inference Protocol: refusals before the handler are in its error shape too', () => {
  const app = createApp({ apiKey: 'sesame', corsOrigins: [], logError: () => undefined });
  const call = (path: string, init?: RequestInit) => app.fetch(new Request(`http://localhost${path}`, init));

  it('401 without the key and 405 for the wrong method are {"error": "..."} on /v2, the envelope on task routes', async () => {
    await assertOipError(
      await call('/v2/models/imagenet/infer', { method: 'POST', body: '{}' }),
      401,
      /API key/,
    );
    await assertOipError(await call('/api/v2'), 401);
    const wrongMethod = await call('/v2/models/imagenet/infer', { headers: { 'x-api-key': 'sesame' } });
    await assertOipError(wrongMethod, 405, /POST/);
    const task = (await (await call('/classify', { method: 'POST' })).json()) as { error: { code: string } };
    assert.equal(task.error.code, 'unauthorized');
    // Health stays open.
    assert.equal((await call('/v2/health/live')).status, 200);
  });

  it('an unknown path under /v2 is 404 {"error"} (401 first when a key is set: deny by default); any other method 405', async () => {
    const open = createApp({ corsOrigins: [], logError: () => undefined });
    const openCall = (path: string, init?: RequestInit) =>
      open.fetch(new Request(`http://localhost${path}`, init));
    for (const path of ['/v2/nope', '/v2/models/imagenet/infer/more', '/api/v2/health', '/v2/models']) {
      await assertOipError(await openCall(path), 404, /no route GET/);
      await assertOipError(await openCall(path, { method: 'POST', body: '{}' }), 404, /no route POST/);
      // With a key set, an unknown path needs it too (it could be a route added later).
      await assertOipError(await call(path), 401, /API key/);
    }
    const key = { 'x-api-key': 'sesame' };
    for (const [path, method, allowed] of [
      ['/v2/models/imagenet/infer', 'PUT', 'POST'],
      ['/v2/models/imagenet/infer', 'DELETE', 'POST'],
      ['/v2/models/imagenet', 'POST', 'GET'],
      ['/api/v2/health/ready', 'PATCH', 'GET'],
    ] as const) {
      const response = await call(path, { method, headers: key });
      assert.equal(response.headers.get('allow'), allowed, `${method} ${path}`);
      await assertOipError(response, 405, new RegExp(allowed));
    }
    // Outside /v2 the task routes' envelope stays.
    const task = (await (await openCall('/v2x')).json()) as { error: { code: string } };
    assert.equal(task.error.code, 'not_found');
  });

  it('503 while the server drains is {"error"} on /v2, the envelope on task routes', async () => {
    const draining = new Hono();
    draining.use(
      '*',
      observeRequests({ draining: true, inFlight: 0 }, new Metrics(), () => undefined),
    );
    draining.route('/', createApp({ corsOrigins: [], logError: () => undefined }));
    const drain = (path: string, init?: RequestInit) =>
      draining.fetch(new Request(`http://localhost${path}`, init));
    for (const path of ['/v2/health/ready', '/v2/models/imagenet', '/api/v2', '/v2/nope']) {
      const response = await drain(path);
      assert.ok(response.headers.get('retry-after'), path);
      await assertOipError(response, 503, /shutting down/);
    }
    await assertOipError(await drain('/v2/models/imagenet/infer', { method: 'POST', body: '{}' }), 503);
    const task = await drain('/classify', { method: 'POST', body: 'x' });
    assert.equal(task.status, 503);
    assert.equal(((await task.json()) as { error: { code: string } }).error.code, 'shutting_down');
  });
});

describe('Open Inference Protocol: an overloaded server answers 503 {"error"} on /v2', () => {
  it("past its queue, /infer requests are refused with Retry-After in the protocol's shape, the rest answered", async () => {
    const server = await startServer(
      serverConfig({ port: '0', workers: '1', queue: '1', preload: 'imagenet' }, {}),
      () => undefined,
    );
    try {
      await server.ready;
      const pixels = await gracePixels();
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${server.url}/v2/models/imagenet/infer`, {
            method: 'POST',
            ...encodeInferRequest([imageInput(pixels)], undefined, { binaryInputs: true }),
          } as RequestInit),
        ),
      );
      const statuses = answers.map((answer) => answer.status);
      assert.ok(statuses.includes(200), String(statuses));
      assert.ok(statuses.includes(503), String(statuses));
      assert.ok(
        statuses.every((status) => status === 200 || status === 503),
        String(statuses),
      );
      for (const answer of answers) {
        if (answer.status !== 503) {
          await answer.arrayBuffer();
          continue;
        }
        assert.equal(answer.headers.get('retry-after'), '1');
        await assertOipError(answer, 503, /retry/);
      }
    } finally {
      await server.close();
    }
  });
});

describe('Open Inference Protocol: a model input with an open dimension (-1)', () => {
  const closed = { open: false, reason: 'it runs on litert, which takes one item per run' } as const;
  const model = { inputs: [{ name: 'x', dtype: 'float32' as const, shape: [-1, 2] }], batch: closed };
  const request = (shape: number[], data: number[]) =>
    inferRequestOf({ inputs: [{ name: 'x', shape, datatype: 'FP32', data }] }, new Uint8Array(0));

  it('takes any size from 1 there, the other dimensions as the model has them', () => {
    const { tensors, items } = inputTensors(request([3, 2], [1, 2, 3, 4, 5, 6]), model, BODY_LIMITS.server);
    assert.deepEqual(Array.from(tensors[0] as Float32Array), [1, 2, 3, 4, 5, 6]);
    assert.equal(items, 1, 'one item of the model, whose own dimension is open');
    assert.throws(() => inputTensors(request([0, 2], []), model, BODY_LIMITS.server), /shape \[-1, 2\]/);
    assert.throws(
      () => inputTensors(request([3, 3], new Array(9).fill(0)), model, BODY_LIMITS.server),
      /shape/,
    );
    assert.throws(() => inputTensors(request([6], [1, 2, 3, 4, 5, 6]), model, BODY_LIMITS.server), /shape/);
  });
});

describe('Open Inference Protocol: the batch dimension, checked before any data is read', () => {
  const inputs = [
    { name: 'a', dtype: 'float32' as const, shape: [1, 2] },
    { name: 'b', dtype: 'uint8' as const, shape: [1, 3] },
  ];
  const open = { inputs, batch: { open: true } as const };
  const closed = {
    inputs,
    batch: { open: false, reason: 'it runs on litert, which takes one item per run' } as const,
  };
  const request = (a: number, b: number) =>
    inferRequestOf(
      {
        inputs: [
          { name: 'a', shape: [a, 2], datatype: 'FP32', data: new Array(a * 2).fill(0.5) },
          { name: 'b', shape: [b, 3], datatype: 'UINT8', data: new Array(b * 3).fill(7) },
        ],
      },
      new Uint8Array(0),
    );

  it('an open batch: N items in each input, one after another; N differing between inputs → 400', () => {
    const { tensors, items } = inputTensors(request(3, 3), open, BODY_LIMITS.server);
    assert.equal(items, 3);
    assert.equal(tensors[0]?.length, 6);
    assert.equal(tensors[1]?.length, 9);
    assert.throws(() => inputTensors(request(3, 2), open, BODY_LIMITS.server), /'a' 3, 'b' 2/);
  });

  it(`more than ${MAX_ITEMS} items → 413 before the data is read (it is not even there)`, () => {
    const many = inferRequestOf(
      {
        inputs: [
          { name: 'a', shape: [MAX_ITEMS + 1, 2], datatype: 'FP32', data: [] },
          { name: 'b', shape: [MAX_ITEMS + 1, 3], datatype: 'UINT8', data: [] },
        ],
      },
      new Uint8Array(0),
    );
    assert.throws(
      () => inputTensors(many, open, BODY_LIMITS.server),
      (error: TfliteFnError) => error.status === 413 && /at most 64/.test(error.message),
    );
  });

  it('a closed batch: N > 1 → 400 with the reason; one item passes', () => {
    assert.equal(inputTensors(request(1, 1), closed, BODY_LIMITS.server).items, 1);
    assert.throws(
      () => inputTensors(request(2, 2), closed, BODY_LIMITS.server),
      /one item per request, because it runs on litert.*sends 2 items/,
    );
  });
});
