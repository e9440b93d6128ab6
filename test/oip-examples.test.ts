/**
 * The protocol's own published examples, byte for byte where they give bytes: KServe's
 * required API (an inference request with "id", two inputs and one named output; its [3, 2]
 * FP32 answer), Triton's binary tensor data extension (16 + 3 bytes after the JSON, a 24-byte
 * binary answer) and its classification extension ([1.1, 3.3, 0.5, 2.4], K = 2 → "3.3:1",
 * "2.4:3", with labels "…:index_1_label"). No built-in model has the examples' UINT32 and BOOL
 * inputs, so the request side is read as our server reads it and the answer side is written
 * from the examples' model outputs, through the same functions /infer uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorData, TensorInfo } from '../src/engine/types.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import { type InferRequest, readInferRequest } from '../src/oip/infer-request.js';
import { inferResponse, planOutputs } from '../src/oip/infer-response.js';

const limit = BODY_LIMITS.server;

/** The examples' model: one FP32 output, output0, of the shape each example assumes. */
function answer(
  request: InferRequest,
  output: { shape: number[]; values: number[] },
  labels?: (index: number) => string,
): Response {
  const info: TensorInfo = { name: 'output0', dtype: 'float32', shape: output.shape };
  const plans = planOutputs(request, [info]);
  const data: TensorData[] = [Float32Array.from(output.values)];
  return inferResponse(request, plans, data, {
    modelName: 'mymodel',
    modelVersion: '1',
    labelOf: (_, index) => labels?.(index),
    limit,
    // The examples' output shapes are the whole tensors: no batch dimension to fill in.
    batch: { open: false, reason: 'the example model has no batch dimension' },
    items: 1,
  });
}

const post = (body: Uint8Array | string, headers: Record<string, string>) =>
  new Request('http://localhost:8000/v2/models/mymodel/infer', {
    method: 'POST',
    headers,
    body: body as Uint8Array<ArrayBuffer> | string,
  });

describe("the protocol's published examples", () => {
  it('required API: the inference request with "id": "42" and its [3, 2] FP32 response', async () => {
    const body = `{
      "id" : "42",
      "inputs" : [
        { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] },
        { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true ] }
      ],
      "outputs" : [ { "name" : "output0" } ]
    }`;
    const request = await readInferRequest(post(body, { 'content-type': 'application/json' }), limit);
    assert.equal(request.id, '42');
    assert.deepEqual(
      request.inputs.map(({ name, shape, datatype, data }) => ({ name, shape, datatype, data })),
      [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
        { name: 'input1', shape: [3], datatype: 'BOOL', data: [true] },
      ],
    );
    assert.deepEqual(
      request.outputs?.map((output) => output.name),
      ['output0'],
    );
    const response = answer(request, { shape: [3, 2], values: [1.0, 1.1, 2.0, 2.1, 3.0, 3.1] });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(await response.json(), {
      model_name: 'mymodel',
      model_version: '1',
      id: '42',
      outputs: [
        {
          name: 'output0',
          shape: [3, 2],
          datatype: 'FP32',
          // FP32 data: the example's values as float32 holds them.
          data: [1.0, 1.1, 2.0, 2.1, 3.0, 3.1].map(Math.fround),
        },
      ],
    });
  });

  it('binary tensor data: 16 + 3 bytes after the JSON in, 24 bytes after the JSON out', async () => {
    const json = `{
      "model_name" : "mymodel",
      "inputs" : [
        { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "parameters" : { "binary_data_size" : 16 } },
        { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "parameters" : { "binary_data_size" : 3 } }
      ],
      "outputs" : [ { "name" : "output0", "parameters" : { "binary_data" : true } } ]
    }`;
    const header = new TextEncoder().encode(json);
    const input0 = new Uint8Array(Uint32Array.of(1, 2, 3, 4).buffer);
    const input1 = Uint8Array.of(1, 0, 1);
    const body = new Uint8Array(header.length + 19);
    body.set(header);
    body.set(input0, header.length);
    body.set(input1, header.length + 16);
    const request = await readInferRequest(
      post(body, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      }),
      limit,
    );
    assert.deepEqual(
      request.inputs.map((input) => [input.name, input.binaryDataSize, input.data]),
      [
        ['input0', 16, undefined],
        ['input1', 3, undefined],
      ],
    );
    assert.deepEqual(request.binary, body.subarray(header.length), 'the 19 bytes after the JSON');

    const values = [1.0, 1.1, 2.0, 2.1, 3.0, 3.1];
    const response = answer(request, { shape: [3, 2], values });
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const yy = Number(response.headers.get('inference-header-content-length'));
    assert.equal(bytes.length, yy + 24, 'Content-Length is <yy+24>');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(0, yy))).outputs, [
      { name: 'output0', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 } },
    ]);
    const tensor = new Float32Array(bytes.slice(yy).buffer);
    assert.deepEqual(Array.from(tensor), values.map(Math.fround));
  });

  it('classification: [1.1, 3.3, 0.5, 2.4] with classification 2 → ["3.3:1", "2.4:3"], labels appended', async () => {
    const body = `{
      "id" : "42",
      "inputs" : [ { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] } ],
      "outputs" : [ { "name" : "output0", "parameters" : { "classification" : 2 } } ]
    }`;
    const request = await readInferRequest(post(body, { 'content-type': 'application/json' }), limit);
    const output = { shape: [4], values: [1.1, 3.3, 0.5, 2.4] };
    // The example names the type STRING (Triton's older name); the protocol's is BYTES.
    assert.deepEqual(await answer(request, output).json(), {
      model_name: 'mymodel',
      model_version: '1',
      id: '42',
      outputs: [{ name: 'output0', shape: [2], datatype: 'BYTES', data: ['3.3:1', '2.4:3'] }],
    });
    const labelled = (await answer(request, output, (index) => `index_${index}_label`).json()) as {
      outputs: { data: string[] }[];
    };
    assert.deepEqual(labelled.outputs[0]?.data, ['3.3:1:index_1_label', '2.4:3:index_3_label']);
  });
});
