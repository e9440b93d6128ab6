/**
 * MoveNet's int8 and index operators, converted and run on both engines: ONNX must give
 * LiteRT's outputs exactly. Each quantized case runs on every stored input (all 65536 pairs
 * for SUB, all 256 bytes for a requantization), with the quantization parameters of MoveNet's
 * own operators, since one step anywhere can move an argmax and so a keypoint. The whole
 * model then gives LiteRT's float outputs bit for bit on real photos.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { verifyConversion } from '../src/convert/verify.js';
import { OrtCompiledModel } from '../src/engine/ort-model.js';
import type { TensorData } from '../src/engine/types.js';
import { openImage } from '../src/image/decode.js';
import { letterboxPhoto } from '../src/tasks/pose/letterbox-photo.js';
import { exactInt8Paths } from '../src/util/cpu.js';
import { bothEngines } from './both-engines.js';
import { IMAGES, SHARED_MODELS } from './helpers.js';
import { buildTflite, FLOAT32, INT8, INT32, type TestOperator, type TestTensor } from './tflite-builder.js';

const QUANTIZE = 114;
const DEQUANTIZE = 6;
const SUB = 41;

function countDifferences(a: TensorData, b: TensorData): number {
  assert.equal(a.length, b.length);
  let differences = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differences++;
  return differences;
}

async function assertSame(model: Uint8Array, inputs: TensorData[]): Promise<TensorData[]> {
  const [expected, actual] = await bothEngines(model, inputs);
  for (const outputs of actual) {
    expected.forEach((want, i) => {
      assert.equal(countDifferences(outputs[i] as TensorData, want), 0, `output ${i}`);
    });
  }
  return expected;
}

interface Quant {
  readonly scale: number;
  readonly zeroPoint: number;
}

const quant = ({ scale, zeroPoint }: Quant) => ({ scale: [scale], zeroPoint: [zeroPoint] });

/** Float values that QUANTIZE turns into exactly the int8 `stored` values. */
function realValues(stored: (i: number) => number, count: number, q: Quant): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => (stored(i) - q.zeroPoint) * q.scale);
}

/**
 * float -> QUANTIZE -> `op` on int8 -> DEQUANTIZE -> float, on `count` values per input. The
 * float outputs are whole steps of the output scale, so equal floats are equal stored bytes.
 */
function quantizedOpModel(
  code: number,
  options: TestOperator['options'],
  ins: Quant[],
  out: Quant,
  count: number,
) {
  const shape = [1, count];
  const tensors: TestTensor[] = [];
  const operators: TestOperator[] = [];
  ins.forEach((q, k) => {
    tensors.push(
      { name: `x${k}`, shape, type: FLOAT32 },
      { name: `q${k}`, shape, type: INT8, quant: quant(q) },
    );
    operators.push({ code: QUANTIZE, inputs: [2 * k], outputs: [2 * k + 1] });
  });
  const result = tensors.push({ name: 'q', shape, type: INT8, quant: quant(out) }) - 1;
  const y = tensors.push({ name: 'y', shape, type: FLOAT32 }) - 1;
  operators.push({
    code,
    inputs: ins.map((_, k) => 2 * k + 1),
    outputs: [result],
    ...(options ? { options } : {}),
  });
  operators.push({ code: DEQUANTIZE, inputs: [result], outputs: [y] });
  return buildTflite({ tensors, operators, inputs: ins.map((_, k) => 2 * k), outputs: [y] });
}

describe('int8 operators of MoveNet, exactly as LiteRT', () => {
  // [a, b, output] of MoveNet's SUBs: input normalisation (ops 2, 4), keypoint distances (116, 119).
  const subs: [string, Quant, Quant, Quant][] = [
    [
      'mean (scale ratio 1e-6)',
      { scale: 1, zeroPoint: -128 },
      { scale: 1e-6, zeroPoint: 0 },
      { scale: 1, zeroPoint: -128 },
    ],
    [
      'offset',
      { scale: 0.00784314, zeroPoint: -128 },
      { scale: 0.00392157, zeroPoint: -128 },
      { scale: 0.00784314, zeroPoint: -1 },
    ],
    [
      'distance x',
      { scale: 0.184314, zeroPoint: -128 },
      { scale: 0.210099, zeroPoint: -128 },
      { scale: 0.38819, zeroPoint: 10 },
    ],
    [
      'distance y',
      { scale: 0.184314, zeroPoint: -128 },
      { scale: 0.175278, zeroPoint: -128 },
      { scale: 0.352121, zeroPoint: -1 },
    ],
  ];
  for (const [name, a, b, out] of subs) {
    it(`SUB (${name}) on all 65536 input pairs`, async () => {
      const model = quantizedOpModel(SUB, { type: 28, ints: [[0, 0, 8]] }, [a, b], out, 65536);
      const x = realValues((i) => (i >> 8) - 128, 65536, a);
      const y = realValues((i) => (i & 255) - 128, 65536, b);
      const [reference] = await assertSame(model, [x, y]);
      // Not degenerate: the results spread over the output range.
      assert.ok(new Set(reference).size > 100, `${new Set(reference).size} distinct results`);
    });
  }

  it('SUB of a per-channel constant: no op where the result is the input, exact where it is not', async () => {
    // MoveNet subtracts a per-channel mean quantized at a scale of 1e-6 from pixels at 1: the
    // result is the input. At a scale of 0.5 the same bytes subtract 62, 58.5 and 52 instead.
    const pixels = { scale: 1, zeroPoint: -128 };
    for (const [meanScale, identity] of [
      [1e-6, true],
      [0.5, false],
    ] as const) {
      const model = buildTflite({
        tensors: [
          { name: 'x', shape: [1, 16, 16, 3], type: FLOAT32 },
          { name: 'q', shape: [1, 16, 16, 3], type: INT8, quant: quant(pixels) },
          {
            name: 'mean',
            shape: [1, 1, 1, 3],
            type: INT8,
            data: Uint8Array.of(124, 117, 104),
            quant: quant({ scale: meanScale, zeroPoint: 0 }),
          },
          { name: 'centred', shape: [1, 16, 16, 3], type: INT8, quant: quant(pixels) },
          { name: 'y', shape: [1, 16, 16, 3], type: FLOAT32 },
        ],
        operators: [
          { code: QUANTIZE, inputs: [0], outputs: [1] },
          { code: SUB, inputs: [1, 2], outputs: [3], options: { type: 28, ints: [[0, 0, 8]] } },
          { code: DEQUANTIZE, inputs: [3], outputs: [4] },
        ],
        inputs: [0],
        outputs: [4],
      });
      // Every stored byte in every channel.
      const x = realValues((i) => (Math.floor(i / 3) % 256) - 128, 768, pixels);
      const [y] = await assertSame(model, [x]);
      assert.equal(
        (y as Float32Array).every((value, i) => value === x[i]),
        identity,
      );
      // The identity needs no node at all: ORT broadcast the 3-element constant element by
      // element, a millisecond on MoveNet's 192x192 input.
      const onnx = Buffer.from(convertTfliteToOnnx(model, 'mean').onnx);
      assert.equal(onnx.includes('Sub') || onnx.includes('Gather'), !identity);
    }
  });

  it('QUANTIZE from int8 to int8 (the heatmap requantization) on all 256 bytes', async () => {
    const inQ = { scale: 0.00390625, zeroPoint: -128 };
    const model = quantizedOpModel(QUANTIZE, undefined, [inQ], { scale: 0.00409685, zeroPoint: -128 }, 256);
    // A float rescaling rounds 10 of these 256 one step away from XNNPACK's fixed point.
    await assertSame(model, [realValues((i) => i - 128, 256, inQ)]);
  });

  it('QUANTIZE from float within an ulp of every half step', async () => {
    for (const scale of [0.00199215, 0.242528, 0.101961]) {
      const out = { scale, zeroPoint: -128 };
      const s = Math.fround(scale);
      // Around (k + 0.5) steps, 8 float32 values below and above: dividing by the scale rounds
      // about 1 in 100 of these the other way than XNNPACK's multiplication by its reciprocal.
      const bits = new Int32Array(4096);
      const values = new Float32Array(bits.buffer);
      for (let i = 0; i < bits.length; i++) {
        values[i] = (((i >> 4) % 256) + 0.5) * s;
        bits[i] = (bits[i] as number) + (i & 15) - 8;
      }
      const model = buildTflite({
        tensors: [
          { name: 'x', shape: [1, 4096], type: FLOAT32 },
          { name: 'q', shape: [1, 4096], type: INT8, quant: quant(out) },
          { name: 'y', shape: [1, 4096], type: FLOAT32 },
        ],
        operators: [
          { code: QUANTIZE, inputs: [0], outputs: [1] },
          { code: DEQUANTIZE, inputs: [1], outputs: [2] },
        ],
        inputs: [0],
        outputs: [2],
      });
      await assertSame(model, [values]);
    }
  });
});

const CAST = 53;
const ARG_MAX = 56;
const FLOOR_DIV = 90;

/** float [1, n] -> CAST int32 -> FLOOR_DIV by a constant -> int32; and ARG_MAX of the floats. */
function integerModel(divisors: readonly number[], n: number, computedDivisor = false): Uint8Array {
  const tensors: TestTensor[] = [
    { name: 'x', shape: [1, n], type: FLOAT32 },
    { name: 'xi', shape: [1, n], type: INT32 },
    computedDivisor
      ? { name: 'd', shape: [1, n], type: INT32 }
      : { name: 'd', shape: [n], type: INT32, data: new Uint8Array(Int32Array.from(divisors).buffer) },
    { name: 'q', shape: [1, n], type: INT32 },
    { name: 'axis', shape: [], type: INT32, data: new Uint8Array(Int32Array.of(1).buffer) },
    { name: 'best', shape: [1], type: INT32 },
  ];
  const operators: TestOperator[] = [
    { code: CAST, inputs: [0], outputs: [1] },
    ...(computedDivisor ? [{ code: CAST, inputs: [0], outputs: [2] }] : []),
    { code: FLOOR_DIV, inputs: [1, 2], outputs: [3] },
    // ArgMaxOptions { output_type: INT32 }
    { code: ARG_MAX, inputs: [0, 4], outputs: [5], options: { type: 40, ints: [[0, INT32, 8]] } },
  ];
  return buildTflite({ tensors, operators, inputs: [0], outputs: [3, 5] });
}

describe('integer and index operators', () => {
  it('FLOOR_DIV rounds down for every sign, CAST truncates, ARG_MAX keeps the first maximum', async () => {
    const values = [-7, 7, -7, 7, -6, 6, 0, -1, 5.9, -5.9, 9, 3, 9, 9];
    const divisors = [2, 2, -2, -2, 3, -3, 4, 4, 2, 2, 5, 7, 1, 1];
    const model = integerModel(divisors, values.length);
    const [quotients, best] = await assertSame(model, [Float32Array.from(values)]);
    assert.deepEqual(Array.from(quotients as Int32Array), [-4, 3, 3, -4, -2, -2, 0, -1, 2, -3, 1, 0, 9, 9]);
    assert.deepEqual(Array.from(best as Int32Array), [10]);
  });

  it('refuses integer division by zero, by -1 or by a computed tensor (they could kill onnxruntime)', () => {
    assert.throws(() => convertTfliteToOnnx(integerModel([1, 0, 2], 3), 'zero'), {
      name: 'ModelLoadError',
      message: /'d' divides by zero \(FLOOR_DIV, operator 1 of subgraph 0\)/,
    });
    assert.throws(() => convertTfliteToOnnx(integerModel([1, -1, 2], 3), 'minus'), {
      name: 'ModelLoadError',
      message: /'d' divides by -1, which can overflow/,
    });
    assert.throws(() => convertTfliteToOnnx(integerModel([], 3, true), 'computed'), {
      name: 'ModelLoadError',
      message: /integer division by a computed tensor is not supported/,
    });
  });
});

const PACK = 83;
const UNPACK = 88;
const GATHER_ND = 107;

describe('regrouping operators', () => {
  it('UNPACK, PACK (negative axis) and GATHER_ND move the elements TFLite moves', async () => {
    // x [2, 3, 4] -> UNPACK axis 1 -> 3 x [2, 4] -> PACK axis -1 -> [2, 4, 3] -> GATHER_ND
    // at [1, 2] and [0, 3] -> [2, 3]: y[i][k] = x[a][k][b] for the i-th index pair (a, b).
    const model = buildTflite({
      tensors: [
        { name: 'x', shape: [2, 3, 4], type: FLOAT32 },
        { name: 'u0', shape: [2, 4], type: FLOAT32 },
        { name: 'u1', shape: [2, 4], type: FLOAT32 },
        { name: 'u2', shape: [2, 4], type: FLOAT32 },
        { name: 'p', shape: [2, 4, 3], type: FLOAT32 },
        { name: 'at', shape: [2, 2], type: INT32, data: new Uint8Array(Int32Array.of(1, 2, 0, 3).buffer) },
        { name: 'y', shape: [2, 3], type: FLOAT32 },
      ],
      operators: [
        // UnpackOptions { num 3, axis 1 }, PackOptions { values_count 3, axis -1 }
        {
          code: UNPACK,
          inputs: [0],
          outputs: [1, 2, 3],
          options: {
            type: 64,
            ints: [
              [0, 3, 32],
              [1, 1, 32],
            ],
          },
        },
        {
          code: PACK,
          inputs: [1, 2, 3],
          outputs: [4],
          options: {
            type: 59,
            ints: [
              [0, 3, 32],
              [1, -1, 32],
            ],
          },
        },
        { code: GATHER_ND, inputs: [4, 5], outputs: [6] },
      ],
      inputs: [0],
      outputs: [6],
    });
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const [y] = await assertSame(model, [x]);
    const at = (a: number, k: number, b: number) => a * 12 + k * 4 + b;
    assert.deepEqual(Array.from(y as Float32Array), [
      at(1, 0, 2),
      at(1, 1, 2),
      at(1, 2, 2),
      at(0, 0, 3),
      at(0, 1, 3),
      at(0, 2, 3),
    ]);
  });
});

/** Photos with people (one, a crowd, a sportsman in a BMP sharp cannot open itself), and none. */
const POSE_PHOTOS = [
  'squat.bmp',
  'grace_hopper.jpg',
  'solvay.jpg',
  'kite_and_cold.jpg',
  'face.jpg',
  'pets.jpg',
];

describe('MoveNet Lightning (int8) through the converter', () => {
  it('converts, and gives LiteRT keypoints exactly on photos, on every int8 path of this CPU', async (t) => {
    const bytes = new Uint8Array(
      readFileSync(join(SHARED_MODELS, 'movenet_single_pose_lightning_ptq.tflite')),
    );
    const conversion = convertTfliteToOnnx(bytes, 'movenet');
    for (const op of ['CAST', 'SUB', 'ARG_MAX', 'FLOOR_DIV', 'PACK', 'GATHER_ND', 'UNPACK', 'SQRT', 'DIV'])
      assert.ok(conversion.ops.includes(op), `${op} in ${conversion.ops}`);
    const photos: { name: string; inputs: TensorData[] }[] = [];
    for (const name of POSE_PHOTOS) {
      // As the pose task feeds it: the photo letterboxed into 192x192 (openImage decodes BMP).
      const image = await openImage(new Uint8Array(readFileSync(join(IMAGES, name))));
      photos.push({ name, inputs: [(await letterboxPhoto(image, { width: 192, height: 192 })).rgb] });
    }
    // The output is [1, 1, 17, 3] (y, x, score per keypoint): its argmax, the verification's
    // top-1, means little, but every value is compared, and the expectation is no difference.
    const outcome = await verifyConversion(bytes, conversion, photos, 0, 'movenet');
    t.diagnostic(outcome.message);
    assert.ok(outcome.ok, outcome.message);
    assert.equal(outcome.summary.maxFloatDifference, 0);
    assert.deepEqual(outcome.summary.int8Paths, exactInt8Paths());
    // Not degenerate: on the squat, MoveNet sees the person (most keypoints confident).
    const ort = await OrtCompiledModel.compile(conversion.onnx, conversion, 'movenet', 1);
    const [keypoints] = await ort.run(photos[0]?.inputs ?? []).finally(() => ort.dispose());
    const scores = Array.from({ length: 17 }, (_, k) => keypoints?.[3 * k + 2] ?? 0);
    assert.ok(scores.filter((score) => score > 0.3).length >= 12, `scores ${scores}`);
  });
});
