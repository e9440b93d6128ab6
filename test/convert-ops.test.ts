/**
 * The task models' quantized one- and two-byte operators and MediaPipe's transposed
 * convolution, on tiny hand-made graphs run on both engines. A quantized op's output is a
 * function of its input bytes, so each case feeds every byte (every pair for MUL) and the ONNX
 * model must give LiteRT's bytes exactly, on every int8 kernel path this CPU computes exactly.
 * Quantization parameters are those of the built-in models' own operators (SSD, MoveNet) and a
 * few others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import type { TensorData } from '../src/engine/types.js';
import { resizeStored } from './bilinear-reference.js';
import { bothEngines } from './both-engines.js';
import {
  buildTflite,
  FLOAT32,
  INT8,
  INT32,
  type TestOperator,
  type TestTensor,
  UINT8,
} from './tflite-builder.js';

const CONCATENATION = 2;
const DEQUANTIZE = 6;
const LOGISTIC = 14;
const MUL = 18;
const RESIZE_BILINEAR = 23;
const CUSTOM = 32;
const QUANTIZE = 114;

interface Quant {
  readonly scale: number;
  readonly zeroPoint: number;
}

const quant = ({ scale, zeroPoint }: Quant) => ({ scale: [scale], zeroPoint: [zeroPoint] });

/** Asserts byte equality on every path; returns LiteRT's first output. */
async function assertSame(model: Uint8Array, inputs: TensorData[], what: string): Promise<TensorData> {
  const [expected, actual] = await bothEngines(model, inputs);
  for (const outputs of actual) {
    expected.forEach((want, o) => {
      const got = outputs[o] as TensorData;
      assert.equal(got.length, want.length);
      const wrong: string[] = [];
      for (let i = 0; i < want.length; i++)
        if (got[i] !== want[i] && wrong.length < 5) wrong.push(`[${i}] ${got[i]} vs LiteRT ${want[i]}`);
      assert.deepEqual(wrong, [], `${what}, output ${o}`);
    });
  }
  return expected[0] as TensorData;
}

/** A deterministic byte stream (a linear congruential generator). */
function bytes(count: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  return Uint8Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  });
}

/**
 * One operator on quantized tensors. uint8 tensors are the graph's own inputs and outputs;
 * int8 ones enter through QUANTIZE from float (values that are whole steps, so exact) and leave
 * through DEQUANTIZE, since a graph's edges are uint8, int32 or float32.
 */
function quantizedModel(spec: {
  type: typeof UINT8 | typeof INT8;
  inputs: { shape: number[]; q: Quant }[];
  output: { shape: number[]; q: Quant };
  op: Omit<TestOperator, 'inputs' | 'outputs'>;
  constants?: TestTensor[];
}): Uint8Array {
  const tensors: TestTensor[] = [];
  const operators: TestOperator[] = [];
  const graphInputs: number[] = [];
  const opInputs = spec.inputs.map(({ shape, q }, k) => {
    if (spec.type === UINT8) {
      graphInputs.push(tensors.push({ name: `x${k}`, shape, type: UINT8, quant: quant(q) }) - 1);
      return tensors.length - 1;
    }
    graphInputs.push(tensors.push({ name: `x${k}`, shape, type: FLOAT32 }) - 1);
    tensors.push({ name: `q${k}`, shape, type: INT8, quant: quant(q) });
    operators.push({ code: QUANTIZE, inputs: [tensors.length - 2], outputs: [tensors.length - 1] });
    return tensors.length - 1;
  });
  for (const constant of spec.constants ?? []) opInputs.push(tensors.push(constant) - 1);
  const y =
    tensors.push({ name: 'y', shape: spec.output.shape, type: spec.type, quant: quant(spec.output.q) }) - 1;
  operators.push({ ...spec.op, inputs: opInputs, outputs: [y] });
  let graphOutput = y;
  if (spec.type === INT8) {
    graphOutput = tensors.push({ name: 'out', shape: spec.output.shape, type: FLOAT32 }) - 1;
    operators.push({ code: DEQUANTIZE, inputs: [y], outputs: [graphOutput] });
  }
  return buildTflite({ tensors, operators, inputs: graphInputs, outputs: [graphOutput] });
}

/** The graph inputs for stored bytes: themselves (uint8), or their real values (int8, as int8 bytes). */
function feed(type: number, stored: Uint8Array, q: Quant): TensorData {
  if (type === UINT8) return stored;
  return Float32Array.from(stored, (byte) => (((byte << 24) >> 24) - q.zeroPoint) * q.scale);
}

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('quantized LOGISTIC, MUL, CONCATENATION and RESIZE_BILINEAR give LiteRT bytes on every input', () => {
  const logistics: [string, typeof UINT8 | typeof INT8, Quant, Quant][] = [
    ['SSD scores', UINT8, { scale: 0.04973676800727844, zeroPoint: 223 }, { scale: 1 / 256, zeroPoint: 0 }],
    ['uint8, a wide input', UINT8, { scale: 0.5, zeroPoint: 3 }, { scale: 1 / 256, zeroPoint: 0 }],
    [
      'MoveNet heatmap',
      INT8,
      { scale: 0.28092747926712036, zeroPoint: 115 },
      { scale: 1 / 256, zeroPoint: -128 },
    ],
    ['int8, a narrow input', INT8, { scale: 0.01, zeroPoint: -5 }, { scale: 1 / 256, zeroPoint: -128 }],
  ];
  for (const [name, type, inQ, outQ] of logistics) {
    it(`LOGISTIC (${name}) on all 256 bytes`, async () => {
      const model = quantizedModel({
        type,
        inputs: [{ shape: [1, 256], q: inQ }],
        output: { shape: [1, 256], q: outQ },
        op: { code: LOGISTIC },
      });
      const out = await assertSame(model, [feed(type, ALL_BYTES, inQ)], name);
      assert.ok(new Set(out).size > 10, `the outputs spread over ${new Set(out).size} steps`);
    });
  }

  const muls: [string, typeof UINT8 | typeof INT8, Quant, Quant, Quant, number][] = [
    [
      'uint8',
      UINT8,
      { scale: 0.05, zeroPoint: 120 },
      { scale: 0.03, zeroPoint: 7 },
      { scale: 0.01, zeroPoint: 131 },
      0,
    ],
    [
      'uint8, fused RELU6',
      UINT8,
      { scale: 0.02, zeroPoint: 128 },
      { scale: 0.1, zeroPoint: 0 },
      { scale: 0.03, zeroPoint: 10 },
      3,
    ],
    [
      'MoveNet sigmoid x centre weight',
      INT8,
      { scale: 0.00390625, zeroPoint: -128 },
      { scale: 0.002178649418056011, zeroPoint: -128 },
      { scale: 0.0020440402440726757, zeroPoint: -128 },
      0,
    ],
    [
      'MoveNet square',
      INT8,
      { scale: 0.3881896734237671, zeroPoint: 10 },
      { scale: 0.3881896734237671, zeroPoint: 10 },
      { scale: 11.256119728088379, zeroPoint: -128 },
      0,
    ],
  ];
  for (const [name, type, aQ, bQ, outQ, activation] of muls) {
    it(`MUL (${name}) on all 65536 input pairs`, async () => {
      const a = Uint8Array.from({ length: 65536 }, (_, i) => i >> 8);
      const b = Uint8Array.from({ length: 65536 }, (_, i) => i & 255);
      const model = quantizedModel({
        type,
        inputs: [
          { shape: [1, 65536], q: aQ },
          { shape: [1, 65536], q: bQ },
        ],
        output: { shape: [1, 65536], q: outQ },
        // MulOptions: fused_activation_function.
        op: { code: MUL, options: { type: 21, ints: [[0, activation, 8]] } },
      });
      const out = await assertSame(model, [feed(type, a, aQ), feed(type, b, bQ)], name);
      assert.ok(new Set(out).size > 100, 'the outputs spread over many steps');
    });
  }

  it('CONCATENATION of uint8 inputs quantized unlike the output (SSD box encodings) on all 256 bytes', async () => {
    const a = { scale: 0.07902787625789642, zeroPoint: 191 };
    const b = { scale: 0.03145682439208031, zeroPoint: 138 };
    const c = { scale: 0.3, zeroPoint: 0 };
    const model = quantizedModel({
      type: UINT8,
      inputs: [
        { shape: [1, 256, 1, 1], q: b },
        { shape: [1, 256, 1, 1], q: a },
        { shape: [1, 256, 1, 1], q: c },
      ],
      output: { shape: [1, 768, 1, 1], q: a },
      // ConcatenationOptions: axis 1, no activation.
      op: { code: CONCATENATION, options: { type: 10, ints: [[0, 1, 32]] } },
    });
    const out = await assertSame(model, [ALL_BYTES, ALL_BYTES, ALL_BYTES], 'concatenation');
    assert.deepEqual(
      [...out.subarray(256, 512)],
      [...ALL_BYTES],
      'the input with the output parameters is copied',
    );
  });

  const resizes: [
    string,
    typeof UINT8 | typeof INT8,
    { align: boolean; half: boolean },
    number[],
    number[],
  ][] = [
    [
      'align_corners, 33 to 513 as DeepLab',
      UINT8,
      { align: true, half: false },
      [1, 5, 33, 2],
      [1, 9, 513, 2],
    ],
    ['align_corners, 1x1 to 7x5 as DeepLab', UINT8, { align: true, half: false }, [1, 1, 1, 3], [1, 7, 5, 3]],
    ['half_pixel_centers, up and down', UINT8, { align: false, half: true }, [1, 6, 11, 3], [1, 13, 4, 3]],
    ['asymmetric, up and down', UINT8, { align: false, half: false }, [1, 7, 5, 2], [1, 3, 12, 2]],
    [
      'half_pixel_centers on int8 as MoveNet',
      INT8,
      { align: false, half: true },
      [1, 6, 6, 4],
      [1, 12, 12, 4],
    ],
    ['align_corners on int8', INT8, { align: true, half: false }, [1, 5, 3, 2], [1, 11, 8, 2]],
    // Every output pixel one input pixel (an Expand in ONNX): copies and broadcasts.
    [
      'a copy, 33x33 to 33x33 as DeepLab',
      UINT8,
      { align: true, half: false },
      [1, 33, 33, 3],
      [1, 33, 33, 3],
    ],
    ['a copy, half_pixel_centers', UINT8, { align: false, half: true }, [1, 6, 5, 2], [1, 6, 5, 2]],
    ['a copy, asymmetric, int8', INT8, { align: false, half: false }, [1, 4, 7, 2], [1, 4, 7, 2]],
    ['a broadcast, 1x1 to 9x4', UINT8, { align: false, half: true }, [1, 1, 1, 5], [1, 9, 4, 5]],
    ['rows broadcast, columns copied', UINT8, { align: true, half: false }, [1, 1, 6, 2], [1, 5, 6, 2]],
    ['rows broadcast, columns interpolated', UINT8, { align: true, half: false }, [1, 1, 4, 2], [1, 3, 9, 2]],
  ];
  for (const [name, type, mode, from, to] of resizes) {
    it(`RESIZE_BILINEAR (${name}) on random bytes`, async () => {
      const q = { scale: 0.2, zeroPoint: type === UINT8 ? 17 : -20 };
      const model = quantizedModel({
        type,
        inputs: [{ shape: from, q }],
        output: { shape: to, q },
        constants: [
          {
            name: 'size',
            shape: [2],
            type: INT32,
            data: new Uint8Array(Int32Array.of(to[1] as number, to[2] as number).buffer),
          },
        ],
        // ResizeBilinearOptions: align_corners (id 2), half_pixel_centers (id 3).
        op: {
          code: RESIZE_BILINEAR,
          options: {
            type: 15,
            ints: [
              [2, mode.align ? 1 : 0, 8],
              [3, mode.half ? 1 : 0, 8],
            ],
          },
        },
      });
      // Each axis the same size or from 1: the ONNX graph expands the input and computes nothing.
      const copies = [1, 2].every((axis) => from[axis] === 1 || from[axis] === to[axis]);
      const ops = Buffer.from(convertTfliteToOnnx(model, 'resize').onnx).toString('latin1');
      assert.equal(ops.includes('Expand') && !ops.includes('Gather'), copies, 'an Expand, no gathers');
      const count = from.reduce((x, y) => x * y, 1);
      for (const seed of [1, 2, 3]) {
        const input = bytes(count, seed);
        const lite = await assertSame(model, [feed(type, input, q)], `${name}, seed ${seed}`);
        // The TypeScript statement of the arithmetic (segment's upsampling uses it) gives the
        // same stored values: int8 ones read back from LiteRT's dequantized output.
        const stored = type === UINT8 ? input : Int8Array.from(input, (byte) => (byte << 24) >> 24);
        const ours = resizeStored(stored, from, to, {
          alignCorners: mode.align,
          halfPixelCenters: mode.half,
        });
        const theirs = Array.from(lite, (v) => (type === UINT8 ? v : Math.round(v / q.scale) + q.zeroPoint));
        assert.deepEqual([...ours], theirs, `${name}, seed ${seed}: resize-bilinear.ts`);
      }
    });
  }
});

describe('RESIZE_BILINEAR refuses what it cannot size', () => {
  it('an empty or unknown dimension inside the graph (the reader lets 0 and -1 through)', () => {
    for (const height of [0, -1]) {
      const q = quant({ scale: 0.1, zeroPoint: 0 });
      const model = buildTflite({
        tensors: [
          { name: 'x', shape: [1, 2, 3, 1], type: UINT8, quant: q },
          { name: 'inner', shape: [1, height, 3, 1], type: UINT8, quant: q },
          { name: 'size', shape: [2], type: INT32, data: new Uint8Array(Int32Array.of(4, 4).buffer) },
          { name: 'y', shape: [1, 4, 4, 1], type: UINT8, quant: q },
        ],
        operators: [
          { code: RESIZE_BILINEAR, inputs: [1, 2], outputs: [3], options: { type: 15, ints: [[2, 1, 8]] } },
        ],
        inputs: [0],
        outputs: [3],
      });
      assert.throws(() => convertTfliteToOnnx(model, 'resize'), /has an empty dimension/, `height ${height}`);
    }
  });
});

/** uint8 or int8 in, QUANTIZE to `to`, out (int8 enters from float and leaves through DEQUANTIZE). */
function requantizeModel(from: number, inQ: Quant, to: number, outQ: Quant): Uint8Array {
  const tensors: TestTensor[] = [];
  const operators: TestOperator[] = [];
  if (from === INT8) {
    tensors.push({ name: 'xf', shape: [1, 256], type: FLOAT32 });
    operators.push({ code: QUANTIZE, inputs: [0], outputs: [1] });
  }
  const x = tensors.push({ name: 'x', shape: [1, 256], type: from, quant: quant(inQ) }) - 1;
  const y = tensors.push({ name: 'y', shape: [1, 256], type: to, quant: quant(outQ) }) - 1;
  operators.push({ code: QUANTIZE, inputs: [x], outputs: [y] });
  let output = y;
  if (to === INT8) {
    output = tensors.push({ name: 'yf', shape: [1, 256], type: FLOAT32 }) - 1;
    operators.push({ code: DEQUANTIZE, inputs: [y], outputs: [output] });
  }
  return buildTflite({ tensors, operators, inputs: [0], outputs: [output] });
}

describe("QUANTIZE where LiteRT runs TFLite's kernel, not XNNPACK's: between uint8 and int8, and far ratios", () => {
  const cases: [string, number, Quant, number, Quant][] = [
    ['uint8 to int8', UINT8, { scale: 0.0123, zeroPoint: 0 }, INT8, { scale: 0.029, zeroPoint: 0 }],
    [
      'uint8 to int8, zero points apart',
      UINT8,
      { scale: 0.05, zeroPoint: 100 },
      INT8,
      { scale: 0.03, zeroPoint: -7 },
    ],
    ['int8 to uint8', INT8, { scale: 0.02, zeroPoint: -3 }, UINT8, { scale: 0.05, zeroPoint: 140 }],
    ['int8, ratio 300', INT8, { scale: 3, zeroPoint: 1 }, INT8, { scale: 0.01, zeroPoint: -2 }],
    ['uint8, ratio 1/278', UINT8, { scale: 0.0018, zeroPoint: 0 }, UINT8, { scale: 0.5, zeroPoint: 128 }],
  ];
  for (const [name, from, inQ, to, outQ] of cases) {
    it(`${name} on all 256 bytes`, async () => {
      const out = await assertSame(requantizeModel(from, inQ, to, outQ), [feed(from, ALL_BYTES, inQ)], name);
      // Below 1/256 the whole input range is less than one output step: two values at most.
      assert.ok(new Set(out).size >= 2, `the outputs spread over ${new Set(out).size} steps`);
    });
  }
});

/** MediaPipe's Convolution2DTransposeBias options: TfLiteTransposeConvParams as bytes. */
function transposeConvOptions(padding: number, strideW: number, strideH: number): Uint8Array {
  return new Uint8Array(Int32Array.of(padding, strideW, strideH).buffer);
}

/** The output size MediaPipe's kernel computes (SAME: total padding max(0, k - (in - 1) % s - 1)). */
function transposedSize(size: number, kernel: number, stride: number, same: boolean): number {
  const total = same ? Math.max(0, kernel - ((size - 1) % stride) - 1) : 0;
  return stride * (size - 1) + kernel - total;
}

function transposeConvModel(
  input: number[],
  kernel: [number, number],
  outChannels: number,
  stride: [number, number],
  same: boolean,
  options = transposeConvOptions(same ? 1 : 2, stride[1], stride[0]),
) {
  const [, h, w, c] = input as [number, number, number, number];
  const weights = Float32Array.from(
    { length: outChannels * kernel[0] * kernel[1] * c },
    (_, i) => Math.sin(i * 1.7) * 0.8,
  );
  const bias = Float32Array.from({ length: outChannels }, (_, i) => i * 0.25 - 0.3);
  const output = [
    1,
    transposedSize(h, kernel[0], stride[0], same),
    transposedSize(w, kernel[1], stride[1], same),
    outChannels,
  ];
  return buildTflite({
    tensors: [
      { name: 'x', shape: input, type: FLOAT32 },
      {
        name: 'w',
        shape: [outChannels, kernel[0], kernel[1], c],
        type: FLOAT32,
        data: new Uint8Array(weights.buffer),
      },
      { name: 'b', shape: [outChannels], type: FLOAT32, data: new Uint8Array(bias.buffer) },
      { name: 'y', shape: output, type: FLOAT32 },
    ],
    operators: [
      {
        code: CUSTOM,
        inputs: [0, 1, 2],
        outputs: [3],
        custom: { code: 'Convolution2DTransposeBias', options },
      },
    ],
    inputs: [0],
    outputs: [3],
  });
}

describe("MediaPipe's Convolution2DTransposeBias as ConvTranspose", () => {
  const cases: [string, number[], [number, number], number, [number, number], boolean][] = [
    ['the selfie model: 2x2 kernel, stride 2, SAME', [1, 8, 8, 16], [2, 2], 1, [2, 2], true],
    ['3x3 kernel, stride 2, SAME, odd sizes (cropped)', [1, 5, 7, 3], [3, 3], 2, [2, 2], true],
    ['4x3 kernel, strides 2 and 3, SAME', [1, 6, 5, 2], [4, 3], 3, [2, 3], true],
    ['3x3 kernel, stride 1, SAME', [1, 4, 6, 2], [3, 3], 2, [1, 1], true],
    ['3x2 kernel, stride 2, VALID', [1, 5, 4, 3], [3, 2], 2, [2, 2], false],
  ];
  for (const [name, input, kernel, outChannels, stride, same] of cases) {
    it(`${name}: LiteRT's outputs within float32 rounding`, async () => {
      const model = transposeConvModel(input, kernel, outChannels, stride, same);
      const count = input.reduce((x, y) => x * y, 1);
      const x = Float32Array.from({ length: count }, (_, i) => Math.cos(i * 0.37) * 3);
      const [[want], actual] = (await bothEngines(model, [x])) as [Float32Array[], Float32Array[][]];
      for (const [got] of actual) {
        assert.equal(got?.length, want?.length);
        for (let i = 0; i < (want?.length ?? 0); i++) {
          const w = want?.[i] as number;
          assert.ok(
            Math.abs((got?.[i] as number) - w) <= 1e-5 * Math.max(1, Math.abs(w)),
            `[${i}] ${got?.[i]} vs LiteRT ${w}`,
          );
        }
      }
    });
  }

  it('refuses options it cannot read and an output size the op does not compute', () => {
    const unknownPadding = transposeConvModel(
      [1, 4, 4, 2],
      [2, 2],
      1,
      [2, 2],
      true,
      transposeConvOptions(0, 2, 2),
    );
    assert.throws(() => convertTfliteToOnnx(unknownPadding, 'tc'), /padding 0 is neither SAME nor VALID/);
    const short = transposeConvModel([1, 4, 4, 2], [2, 2], 1, [2, 2], true, new Uint8Array(8));
    assert.throws(
      () => convertTfliteToOnnx(short, 'tc'),
      /options \(padding and strides, 12 bytes\) are missing/,
    );
    const huge = transposeConvModel(
      [1, 4, 4, 2],
      [2, 2],
      1,
      [2, 2],
      true,
      transposeConvOptions(1, 2, 1_000_000),
    );
    assert.throws(() => convertTfliteToOnnx(huge, 'tc'), /strides \[2, 1000000\] are not between 1 and 64/);
    // SAME options on a file whose output was sized as VALID.
    const wrongSize = transposeConvModel(
      [1, 5, 5, 2],
      [3, 3],
      1,
      [2, 2],
      false,
      transposeConvOptions(1, 2, 2),
    );
    assert.throws(() => convertTfliteToOnnx(wrongSize, 'tc'), /is not the 9x9 the op computes/);
  });
});
