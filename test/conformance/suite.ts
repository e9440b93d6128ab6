/**
 * One suite of HTTP behaviours, proven on every platform: each platform's test file supplies
 * only `invoke`, which carries a request through that platform's real handler (and event
 * shape) and brings the response back.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { HttpResponseParts } from '../../handlers/dev/lambda-events.js';
import { TASKS } from '../../src/tasks/index.js';
import { CLASSIC_GRACE_HOPPER, photo } from '../helpers.js';
import { encodeInferRequest } from '../oip-client.js';
import { describeTaskConformance } from './task-suite.js';

export interface InvokeRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
}

export type Invoke = (request: InvokeRequest) => Promise<HttpResponseParts>;

export interface ConformanceOptions {
  /** '' for platforms that route /classify, '/api' where the platform prefixes. */
  readonly prefix: string;
  /** The platform's body limit: one byte more must get a 413. */
  readonly maxBodyBytes: number;
  /**
   * Set where the platform's own front end answers some requests before our function sees
   * them (netlify-cli refuses bodies over 6 MB and unknown paths itself): there only the status
   * is ours to check.
   */
  readonly frontEndAnswers?: boolean;
  /**
   * The engine answers must report: 'ort' by default, since set-up converted and verified
   * every built-in model and `auto` picks it.
   */
  readonly engine?: 'ort' | 'litert';
  /** The deployment has no LiteRT: tasks whose model did not convert are skipped (task-suite.ts). */
  readonly nativeOnly?: boolean;
  /** The deployment leaves out extra models to fit its size limit (Netlify): birds is not listed. */
  readonly fewerModels?: boolean;
}

interface ClassifyJson {
  label: string;
  engine: string;
  model: string;
  top: unknown[];
  received: { bytes: number; sha256: string };
}

interface ErrorJson {
  error: { code: string; message: string };
}

function json<T>(response: HttpResponseParts): T {
  return JSON.parse(new TextDecoder().decode(response.body)) as T;
}

function text(response: HttpResponseParts): string {
  return new TextDecoder().decode(response.body);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function multipart(
  fields: Record<string, string>,
  file: Uint8Array,
): Promise<{ body: Uint8Array; type: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('photo', new Blob([file], { type: 'image/jpeg' }), 'grace_hopper.jpg');
  const encoded = new Response(form);
  return {
    body: new Uint8Array(await encoded.arrayBuffer()),
    type: encoded.headers.get('content-type') ?? '',
  };
}

export function describeConformance(platform: string, invoke: Invoke, options: ConformanceOptions): void {
  const classifyPath = `${options.prefix}/classify`;
  const grace = new Uint8Array(photo('grace_hopper.jpg'));
  const post = (headers: Record<string, string>, body: Uint8Array, query = '') =>
    invoke({ method: 'POST', path: classifyPath, query, headers, body });

  async function assertError(response: HttpResponseParts, status: number, code: string): Promise<void> {
    assert.equal(response.status, status, text(response));
    assert.match(response.headers['content-type'] ?? '', /application\/json/);
    const body = json<ErrorJson>(response);
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 0);
    assert.doesNotMatch(body.error.message, /\n\s+at /, 'no stack trace');
  }

  describe(`${platform}: HTTP conformance`, () => {
    it('raw image/jpeg body → military uniform, bytes arriving exactly', async () => {
      // A JPEG is not valid UTF-8 (it starts 0xFF 0xD8): any text round trip would change it.
      assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(grace));
      const response = await post({ 'content-type': 'image/jpeg' }, grace);
      assert.equal(response.status, 200, text(response));
      const body = json<ClassifyJson>(response);
      assert.equal(body.label, 'military uniform');
      assert.deepEqual(body.received, { bytes: grace.length, sha256: sha256(grace) });
      assert.equal(body.engine, options.engine ?? 'ort', 'the engine the deployment selected');
    });

    it('application/octet-stream body, options from the query string', async () => {
      const response = await post(
        { 'content-type': 'application/octet-stream' },
        grace,
        'top=2&model=imagenet',
      );
      assert.equal(response.status, 200, text(response));
      const body = json<ClassifyJson>(response);
      assert.equal(body.label, 'military uniform');
      assert.equal(body.top.length, 2);
    });

    it('multipart/form-data with one file and option fields', async () => {
      const form = await multipart({ top: '3' }, grace);
      const response = await post({ 'content-type': form.type }, form.body);
      assert.equal(response.status, 200, text(response));
      const body = json<ClassifyJson>(response);
      assert.equal(body.label, 'military uniform');
      assert.equal(body.top.length, 3);
      assert.deepEqual(body.received, { bytes: grace.length, sha256: sha256(grace) });
    });

    it('JSON {"image": base64, "model", "top"}', async () => {
      const payload = JSON.stringify({
        image: Buffer.from(grace).toString('base64'),
        model: 'imagenet',
        top: 4,
      });
      const response = await post({ 'content-type': 'application/json' }, new TextEncoder().encode(payload));
      assert.equal(response.status, 200, text(response));
      const body = json<ClassifyJson>(response);
      assert.equal(body.label, 'military uniform');
      assert.equal(body.top.length, 4);
      assert.equal(body.received.sha256, sha256(grace));
    });

    it('Accept: text/html → the classic sentence', async () => {
      const response = await post(
        { 'content-type': 'image/jpeg', accept: 'text/html' },
        grace,
        'resize=fill',
      );
      assert.equal(response.status, 200);
      assert.match(response.headers['content-type'] ?? '', /text\/html/);
      assert.equal(text(response), CLASSIC_GRACE_HOPPER);
    });

    it('Accept: text/plain → score and label lines; ?format= overrides Accept', async () => {
      const plain = await post({ 'content-type': 'image/jpeg', accept: 'text/plain' }, grace);
      assert.match(plain.headers['content-type'] ?? '', /text\/plain/);
      assert.match(text(plain), /^0\.\d{4} {2}military uniform\n/);
      const forced = await post({ 'content-type': 'image/jpeg', accept: 'text/html' }, grace, 'format=json');
      assert.equal(json<ClassifyJson>(forced).label, 'military uniform');
    });

    it('empty body → 400 empty_image', async () => {
      await assertError(await post({ 'content-type': 'image/jpeg' }, new Uint8Array(0)), 400, 'empty_image');
    });

    it('not an image → 415 unsupported_image; wrong content type → 415 unsupported_media_type', async () => {
      await assertError(
        await post({ 'content-type': 'image/jpeg' }, new Uint8Array([0xc0, 0xff, 0xee, 0, 1, 2, 3])),
        415,
        'unsupported_image',
      );
      await assertError(
        await post({ 'content-type': 'text/plain' }, new TextEncoder().encode('hello')),
        415,
        'unsupported_media_type',
      );
    });

    it('truncated image → 400 corrupt_image', async () => {
      await assertError(
        await post({ 'content-type': 'image/jpeg' }, grace.subarray(0, 20000)),
        400,
        'corrupt_image',
      );
    });

    it('unknown model → 404 unknown_model', async () => {
      await assertError(
        await post({ 'content-type': 'image/jpeg' }, grace, 'model=nope'),
        404,
        'unknown_model',
      );
    });

    it('bad JSON and bad base64 → 400', async () => {
      await assertError(
        await post({ 'content-type': 'application/json' }, new TextEncoder().encode('{"image": ')),
        400,
        'bad_json',
      );
      const badBase64 = new TextEncoder().encode(JSON.stringify({ image: 'not base64!' }));
      await assertError(await post({ 'content-type': 'application/json' }, badBase64), 400, 'bad_base64');
    });

    it(`a body over the platform limit (${options.maxBodyBytes} bytes) → 413 payload_too_large, saying whose limit`, async () => {
      const big = new Uint8Array(options.maxBodyBytes + 1);
      big.set(grace);
      const response = await post({ 'content-type': 'image/jpeg' }, big);
      if (options.frontEndAnswers) {
        assert.equal(response.status, 413);
        return;
      }
      await assertError(response, 413, 'payload_too_large');
      assert.match(json<ErrorJson>(response).error.message, /at most/);
    });

    it('GET /models and /healthz; GET /classify → 405; unknown path → 404', async () => {
      const models = await invoke({ method: 'GET', path: `${options.prefix}/models` });
      assert.equal(models.status, 200);
      const list = json<{
        default: string;
        models: { id: string; task: string }[];
        tasks: { id: string; model: string; route: string }[];
      }>(models);
      assert.equal(list.default, 'imagenet');
      // Every task, with its route, and its default model among the models listed, each with
      // its task (a deployment may carry fewer extra models: Netlify's 50 MB).
      assert.deepEqual(
        list.tasks.map((task) => [task.id, task.route]),
        TASKS.map((task) => [task.id, `/${task.id}`]),
      );
      for (const task of list.tasks)
        assert.ok(
          list.models.some((m) => m.id === task.model && m.task === task.id),
          task.id,
        );
      if (!options.fewerModels) assert.ok(list.models.some((m) => m.id === 'birds'));
      const health = await invoke({ method: 'GET', path: `${options.prefix}/healthz` });
      assert.deepEqual(json(health), { status: 'ok' });
      await assertError(await invoke({ method: 'GET', path: classifyPath }), 405, 'method_not_allowed');
      const unknown = await invoke({ method: 'GET', path: `${options.prefix}/nothing-here` });
      if (options.frontEndAnswers) assert.equal(unknown.status, 404);
      else await assertError(unknown, 404, 'not_found');
    });

    it('POST /detect: faces as JSON by default, the annotated photo for Accept: image/jpeg', async () => {
      const detectPath = `${options.prefix}/detect`;
      const data = await invoke({
        method: 'POST',
        path: detectPath,
        headers: { 'content-type': 'image/jpeg' },
        body: grace,
      });
      assert.equal(data.status, 200, text(data));
      const found = json<{ faces: { box: { width: number } }[]; image: { width: number; height: number } }>(
        data,
      );
      assert.equal(found.faces.length, 1);
      assert.deepEqual(found.image, { format: 'jpeg', width: 517, height: 606 });
      const drawn = await invoke({
        method: 'POST',
        path: detectPath,
        headers: { 'content-type': 'image/jpeg', accept: 'image/jpeg' },
        body: grace,
      });
      assert.equal(drawn.status, 200);
      assert.equal(drawn.headers['content-type'], 'image/jpeg');
      const size = await sharp(drawn.body).metadata();
      assert.deepEqual([size.format, size.width, size.height], ['jpeg', 517, 606]);
      await assertError(await invoke({ method: 'GET', path: detectPath }), 405, 'method_not_allowed');
    });

    it('Open Inference Protocol: health, model metadata, binary UINT8 infer with classification, 404 as {"error"}', async () => {
      const v2 = `${options.prefix}/v2`;
      assert.equal((await invoke({ method: 'GET', path: `${v2}/health/live` })).status, 200);
      const metadata = await invoke({ method: 'GET', path: `${v2}/models/imagenet` });
      assert.equal(metadata.status, 200, text(metadata));
      // On onnxruntime the batch dimension is open (-1); LiteRT takes one item (1).
      const batch = (options.engine ?? 'ort') === 'ort' ? -1 : 1;
      assert.deepEqual(json<{ inputs: unknown }>(metadata).inputs, [
        { name: 'input', datatype: 'UINT8', shape: [batch, 224, 224, 3] },
      ]);
      // The binary tensor data extension: the JSON object, then the tensor's bytes.
      const pixels = await sharp(grace).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer();
      const request = encodeInferRequest(
        [{ name: 'input', shape: [1, 224, 224, 3], datatype: 'UINT8', values: pixels }],
        [{ name: 'MobilenetV2/Predictions/Softmax', classification: 1 }],
        { binaryInputs: true },
      );
      const answer = await invoke({
        method: 'POST',
        path: `${v2}/models/imagenet/infer`,
        headers: request.headers,
        body: request.body,
      });
      assert.equal(answer.status, 200, text(answer));
      const outputs = json<{ outputs: { datatype: string; data: string[] }[] }>(answer).outputs;
      assert.equal(outputs[0]?.datatype, 'BYTES');
      assert.match(outputs[0]?.data[0] ?? '', /^\d+:\d+:military uniform$/);
      const unknown = await invoke({ method: 'GET', path: `${v2}/models/nope` });
      assert.equal(unknown.status, 404);
      assert.equal(typeof json<{ error: unknown }>(unknown).error, 'string');
    });

    it('Open Inference Protocol: a batch of 2 → [2, K] classes; another datatype → 400 naming both; an unknown /v2 path → 404 {"error"}', async () => {
      const v2 = `${options.prefix}/v2`;
      const pixels = await sharp(grace).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer();
      const two = new Uint8Array(pixels.length * 2);
      two.set(pixels);
      two.set(pixels, pixels.length);
      const send = (input: Parameters<typeof encodeInferRequest>[0][number]) => {
        const request = encodeInferRequest(
          [input],
          [{ name: 'MobilenetV2/Predictions/Softmax', classification: 1 }],
          {
            binaryInputs: true,
          },
        );
        return invoke({
          method: 'POST',
          path: `${v2}/models/imagenet/infer`,
          headers: request.headers,
          body: request.body,
        });
      };
      const answer = await send({ name: 'input', shape: [2, 224, 224, 3], datatype: 'UINT8', values: two });
      if ((options.engine ?? 'ort') === 'ort') {
        assert.equal(answer.status, 200, text(answer));
        const output = json<{ outputs: { shape: number[]; data: string[] }[] }>(answer).outputs[0];
        assert.deepEqual(output?.shape, [2, 1]);
        for (const row of output?.data ?? []) assert.match(row, /^\d+:\d+:military uniform$/);
      } else {
        assert.equal(answer.status, 400, text(answer));
      }
      const fp16 = await send({
        name: 'input',
        shape: [1, 224, 224, 3],
        datatype: 'FP16',
        values: new Uint16Array(pixels.length),
      });
      assert.equal(fp16.status, 400, text(fp16));
      assert.match(json<{ error: string }>(fp16).error, /FP16.*UINT8|UINT8.*FP16/);
      if (!options.frontEndAnswers) {
        const unknown = await invoke({ method: 'GET', path: `${v2}/nope` });
        assert.equal(unknown.status, 404);
        assert.equal(typeof json<{ error: unknown }>(unknown).error, 'string');
      }
    });

    it('keeps serving after every error', async () => {
      const response = await post({ 'content-type': 'image/jpeg' }, grace);
      assert.equal(json<ClassifyJson>(response).label, 'military uniform');
    });
  });

  describeTaskConformance(platform, invoke, {
    prefix: options.prefix,
    ...(options.nativeOnly ? { nativeOnly: true } : {}),
  });
}
