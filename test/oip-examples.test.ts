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
import { type FixedDatatype, halfToNumber, jsonElements, numberToHalf } from '../src/oip/datatypes.js';
import { type InferRequest, type RequestInput, readInferRequest } from '../src/oip/infer-request.js';
import { inferResponse, planOutputs } from '../src/oip/infer-response.js';
import { tensorFromBytes, tensorFromJson } from '../src/oip/tensor-data.js';
import { type ClientInput, type Datatype, encodeInferRequest, type TensorValues } from './oip-client.js';

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

/** A request input as the server reads its data (a fixed-size datatype). */
const declared = (input: RequestInput) => ({
  name: input.name,
  datatype: input.datatype as FixedDatatype,
  shape: input.shape,
});

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
    // Read by their own datatypes: UINT32 as it is; the example's BOOL input has one element
    // for its shape [3], which a server must refuse, naming both counts.
    const [input0, input1] = request.inputs as [RequestInput, RequestInput];
    assert.deepEqual(tensorFromJson(declared(input0), input0.data), Uint32Array.of(1, 2, 3, 4));
    assert.throws(
      () => tensorFromJson(declared(input1), input1.data),
      /data has 1 elements; its shape \[3\] holds 3/,
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
    const [uint32, bool] = request.inputs as [RequestInput, RequestInput];
    assert.deepEqual(
      tensorFromBytes(declared(uint32), request.binary.subarray(0, 16)),
      Uint32Array.of(1, 2, 3, 4),
    );
    assert.deepEqual(tensorFromBytes(declared(bool), request.binary.subarray(16)), Uint8Array.of(1, 0, 1));

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

/** Each datatype: a tensor of its edge values, values a JSON request may not hold, and why. */
const DATATYPE_CASES: readonly { datatype: Datatype; values: TensorValues; bad: readonly unknown[] }[] = [
  { datatype: 'BOOL', values: Uint8Array.of(1, 0, 1), bad: [1, 0, 'true', null] },
  { datatype: 'UINT8', values: Uint8Array.of(0, 255, 7), bad: [-1, 256, 1.5, true] },
  { datatype: 'UINT16', values: Uint16Array.of(0, 65535, 7), bad: [-1, 65536, 0.5] },
  { datatype: 'UINT32', values: Uint32Array.of(0, 2 ** 32 - 1, 7), bad: [-1, 2 ** 32, 2.5] },
  {
    datatype: 'UINT64',
    values: BigUint64Array.of(0n, BigInt(Number.MAX_SAFE_INTEGER), 7n),
    bad: [-1, 2 ** 53, 2 ** 64, 0.5],
  },
  { datatype: 'INT8', values: Int8Array.of(-128, 127, 0), bad: [-129, 128, 0.5] },
  { datatype: 'INT16', values: Int16Array.of(-32768, 32767, 0), bad: [-32769, 32768] },
  { datatype: 'INT32', values: Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0), bad: [-(2 ** 31) - 1, 2 ** 31] },
  {
    datatype: 'INT64',
    values: BigInt64Array.of(-BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER), 0n),
    bad: [2 ** 53, -(2 ** 53), 2 ** 63, 1.5],
  },
  // FP16 as its bits: -65504, 65504 (the largest half) and 1/3 rounded to a half.
  { datatype: 'FP16', values: Uint16Array.of(0xfbff, 0x7bff, 0x3555), bad: [65520, -1e6, '1'] },
  { datatype: 'FP32', values: Float32Array.of(-3.4028234663852886e38, 1.1, 0), bad: [3.5e38, -1e39, 'x'] },
  { datatype: 'FP64', values: Float64Array.of(-Number.MAX_VALUE, 0.1, 5e-324), bad: ['0.1', null, {}] },
];

describe('every datatype of the protocol, as the spec-written client sends it', () => {
  it('JSON and binary data read back as the values sent, for each of the twelve fixed-size datatypes', async () => {
    for (const { datatype, values } of DATATYPE_CASES) {
      const input: ClientInput = { name: 'x', shape: [1, 3], datatype, values };
      for (const binaryInputs of [false, true]) {
        const { body, headers } = encodeInferRequest([input], undefined, { binaryInputs });
        const request = await readInferRequest(post(body, headers), limit);
        const read = request.inputs[0] as RequestInput;
        assert.equal(read.datatype, datatype);
        const tensor = binaryInputs
          ? tensorFromBytes(declared(read), request.binary)
          : tensorFromJson(declared(read), read.data);
        assert.deepEqual(tensor, values, `${datatype}, ${binaryInputs ? 'binary' : 'JSON'}`);
      }
    }
  });

  it("JSON values outside a datatype's range or kind → 400 naming the element and the type", () => {
    for (const { datatype, bad } of DATATYPE_CASES) {
      for (const value of bad) {
        assert.throws(
          () =>
            tensorFromJson({ name: 'x', datatype: datatype as FixedDatatype, shape: [2] }, [value, value]),
          (error: Error & { status?: number }) =>
            error.status === 400 &&
            error.message.includes(`element 0`) &&
            error.message.includes(`not a ${datatype}`),
          `${datatype} ${JSON.stringify(value)}`,
        );
      }
    }
    // 64-bit integers past 2^53 are not exact in JSON: the error says to send binary data.
    assert.throws(
      () => tensorFromJson({ name: 'x', datatype: 'INT64', shape: [1] }, [2 ** 60]),
      /binary data/,
    );
  });

  it('a wrong element count → 400 naming the expected and the given count', () => {
    assert.throws(
      () => tensorFromJson({ name: 'x', datatype: 'INT16', shape: [2, 3] }, [1, 2, 3, 4, 5]),
      /data has 5 elements; its shape \[2,3\] holds 6/,
    );
    assert.throws(
      () => tensorFromJson({ name: 'x', datatype: 'INT16', shape: [2, 3] }, [[1, 2, 3], [4, 5, 6], [7]]),
      /more than the 6 elements/,
    );
  });

  it('answers write every element exactly: 64-bit integers digit for digit, FP16 as its value, BOOL as true/false', () => {
    const cases: [FixedDatatype, Parameters<typeof jsonElements>[1], string][] = [
      ['INT64', BigInt64Array.of(2n ** 63n - 1n, -(2n ** 63n)), '[9223372036854775807,-9223372036854775808]'],
      ['UINT64', BigUint64Array.of(2n ** 64n - 1n), '[18446744073709551615]'],
      ['FP16', Uint16Array.of(0x3c00, 0x7bff, 0x0001), `[1,65504,${2 ** -24}]`],
      ['BOOL', Uint8Array.of(1, 0), '[true,false]'],
      ['FP32', Float32Array.of(Number.NaN, 0.5), '[null,0.5]'],
      ['INT8', Int8Array.of(-128, 127), '[-128,127]'],
    ];
    for (const [datatype, data, text] of cases) assert.equal(jsonElements(datatype, data), text, datatype);
  });

  it('FP16: every one of the 65536 bit patterns but NaN reads back as itself', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfToNumber(bits);
      if (Number.isNaN(value)) continue;
      assert.equal(numberToHalf(value), bits, `0x${bits.toString(16)}`);
    }
    assert.equal(numberToHalf(1 + 2 ** -11), 0x3c00, 'a tie rounds to even');
    assert.equal(numberToHalf(1 + 3 * 2 ** -11), 0x3c02, 'a tie rounds to even (up)');
  });
});
