/**
 * The TFLite-to-ONNX converter against LiteRT, the reference: every built-in model converts,
 * keeps TFLite's input and output names, types and NHWC shapes, and gives LiteRT's outputs on
 * real photos prepared by the project's own image code.
 *
 * Tolerances (issue 7): quantized outputs within 2 steps of the output scale and the same top-1
 * (measured: no difference at all, on all 1000 imagenet-sample photos and every model).
 * Float outputs (BlazeFace) within 1e-3 + 1e-4 * max|x| of the output tensor. Per element,
 * 1e-3 + 1e-4 |x| holds on these photos with ten times room (at most 5.4e-4 on scores up to
 * 500) and on 999 of the 1000 sample photos; the acoustic guitar is the exception, included
 * here: its activations reach 4647 (regressors) and 11403 (scores), summation order alone
 * moves small outputs next to those (ORT's optimized graph differs from its unoptimized one
 * by 0.07 there), and LiteRT and ORT differ by up to 0.16 and 0.41.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CONVERTER_VERSION, convertTfliteToOnnx } from '../src/convert/convert.js';
import { convertAndVerify } from '../src/convert/prepare.js';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { OrtCompiledModel } from '../src/engine/ort-model.js';
import type { TensorData } from '../src/engine/types.js';
import { ModelLoadError } from '../src/errors.js';
import { openImage } from '../src/image/decode.js';
import { type ResizeMode, resizeToRgb, rgbToTensor, type TensorLayout } from '../src/image/to-tensor.js';
import { ModelCatalog } from '../src/index.js';
import { assertTfliteIntegrity } from '../src/tflite/check.js';
import { readTfliteModel } from '../src/tflite/read.js';
import { BuiltinOperator, type SubGraph, type Tensor } from '../src/tflite/schema.js';
import { exactInt8Paths } from '../src/util/cpu.js';
import { IMAGES, SHARED, SHARED_MODELS } from './helpers.js';
import { buildTflite, FLOAT16, FLOAT32, INT8, INT32, UINT8 } from './tflite-builder.js';
import type { FuzzMessage, Mutation } from './tflite-fuzz-worker.js';

const FACE_MODELS = dirname(createRequire(import.meta.url).resolve('@mediapipe/face_detection/package.json'));

interface Case {
  readonly id: string;
  readonly file: string;
  readonly layout: TensorLayout;
  /** As in models/*.yaml: classifiers crop the centre, the detectors see the whole photo. */
  readonly resize: ResizeMode;
}

function rgb8(size: number): TensorLayout {
  return { width: size, height: size, format: 'rgb8', mean: [0, 0, 0], std: [1, 1, 1] };
}

/** BlazeFace: [-1, 1] floats (models/faces.yaml). */
function unitFloat(size: number): TensorLayout {
  return {
    width: size,
    height: size,
    format: 'rgb32f',
    mean: [127.5, 127.5, 127.5],
    std: [127.5, 127.5, 127.5],
  };
}

const CASES: readonly Case[] = [
  {
    id: 'imagenet',
    file: join(SHARED_MODELS, 'mobilenet_v2_1.0_224_quant.tflite'),
    layout: rgb8(224),
    resize: 'cover',
  },
  {
    id: 'imagenet-small',
    file: join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'),
    layout: rgb8(128),
    resize: 'cover',
  },
  {
    id: 'mobilenet_v1_0.75_192',
    file: join(SHARED_MODELS, 'mobilenet_v1_0.75_192_quant.tflite'),
    layout: rgb8(192),
    resize: 'cover',
  },
  {
    id: 'birds',
    file: join(SHARED_MODELS, 'mobilenet_v2_1.0_224_inat_bird_quant.tflite'),
    layout: rgb8(224),
    resize: 'cover',
  },
  {
    id: 'insects',
    file: join(SHARED_MODELS, 'mobilenet_v2_1.0_224_inat_insect_quant.tflite'),
    layout: rgb8(224),
    resize: 'cover',
  },
  {
    id: 'faces-short',
    file: join(FACE_MODELS, 'face_detection_short_range.tflite'),
    layout: unitFloat(128),
    resize: 'fill',
  },
  {
    id: 'faces',
    file: join(FACE_MODELS, 'face_detection_full_range.tflite'),
    layout: unitFloat(192),
    resize: 'fill',
  },
];

/** Ten ImageNet photos spread over the classes, and the shared photos with faces and scenes. */
const PHOTOS: readonly string[] = [
  ...readdirSync(join(SHARED, 'imagenet-sample'))
    .sort()
    .filter((_, i) => i % 100 === 42)
    .map((name) => join(SHARED, 'imagenet-sample', name)),
  ...['grace_hopper.jpg', 'face.jpg', 'solvay.jpg', 'pets.jpg', 'ladybug.jpg', 'PurpleGallinule.jpg'].map(
    (name) => join(IMAGES, name),
  ),
  join(SHARED, 'imagenet-sample', 'n02676566_acoustic_guitar.JPEG'),
];

function largestMagnitude(values: TensorData): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

async function prepare(path: string, layout: TensorLayout, resize: ResizeMode): Promise<TensorData> {
  const image = await openImage(new Uint8Array(readFileSync(path)));
  return rgbToTensor(await resizeToRgb(image, layout.width, layout.height, resize), layout);
}

function argmax(values: TensorData): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/**
 * The scheme of TFLite's current int8 models: float in, int8 inside with symmetric per-channel
 * weights (beyond [-64, 64], where the int8 kernel paths differ), float out.
 */
function perChannelInt8Model(): Uint8Array {
  const outChannels = 4;
  const weightScales = [0.011, 0.004, 0.027, 0.0075];
  const weights = Int8Array.from({ length: outChannels * 3 * 3 * 3 }, (_, i) => ((i * 37) % 255) - 127);
  return buildTflite({
    tensors: [
      { name: 'x', shape: [1, 5, 5, 3], type: FLOAT32 },
      { name: 'xq', shape: [1, 5, 5, 3], type: INT8, quant: { scale: [0.02], zeroPoint: [-3] } },
      {
        name: 'w',
        shape: [outChannels, 3, 3, 3],
        type: INT8,
        data: new Uint8Array(weights.buffer),
        quant: { scale: weightScales, zeroPoint: [0, 0, 0, 0], dimension: 0 },
      },
      {
        name: 'b',
        shape: [outChannels],
        type: INT32,
        data: new Uint8Array(Int32Array.of(300, -2000, 45, 9000).buffer),
        quant: {
          scale: weightScales.map((scale) => Math.fround(0.02 * Math.fround(scale))),
          zeroPoint: [0, 0, 0, 0],
        },
      },
      {
        name: 'yq',
        shape: [1, 3, 3, outChannels],
        type: INT8,
        quant: { scale: [0.03], zeroPoint: [-100] },
      },
      { name: 'y', shape: [1, 3, 3, outChannels], type: FLOAT32 },
    ],
    operators: [
      { code: 114, inputs: [0], outputs: [1] },
      // Conv2DOptions: SAME padding, stride 2 both ways, RELU6.
      {
        code: 3,
        inputs: [1, 2, 3],
        outputs: [4],
        options: {
          type: 1,
          ints: [
            [0, 0, 8],
            [1, 2, 32],
            [2, 2, 32],
            [3, 3, 8],
          ],
        },
      },
      { code: 6, inputs: [4], outputs: [5] },
    ],
    inputs: [0],
    outputs: [5],
  });
}

describe('TFLite to ONNX converter, checked against LiteRT', () => {
  for (const model of CASES) {
    it(`${model.id}: converts and runs on onnxruntime with LiteRT's outputs`, async (t) => {
      const bytes = new Uint8Array(readFileSync(model.file));
      const converted = convertTfliteToOnnx(bytes, model.id);
      const lite = await LiteRtCompiledModelAdapter.compile(bytes, model.id);
      const ort = await OrtCompiledModel.compile(converted.onnx, converted, model.id, 1);
      try {
        // The caller feeds both engines the same bytes: same names, types, NHWC shapes.
        assert.deepEqual(converted.inputs, lite.inputs);
        assert.deepEqual(converted.outputs, lite.outputs);
        assert.ok(converted.ops.includes('CONV_2D') && converted.ops.includes('DEPTHWISE_CONV_2D'));
        let maxSteps = 0;
        let maxFloat = 0;
        for (const photo of PHOTOS) {
          const input = await prepare(photo, model.layout, model.resize);
          const expected = await lite.run([input]);
          const actual = await ort.run([input]);
          assert.equal(actual.length, expected.length);
          expected.forEach((want, o) => {
            const got = actual[o] as TensorData;
            const floatTolerance = 1e-3 + 1e-4 * largestMagnitude(want);
            assert.equal(got.constructor, want.constructor, `output ${o} type`);
            assert.equal(got.length, want.length, `output ${o} size`);
            for (let i = 0; i < want.length; i++) {
              const x = want[i] as number;
              const difference = Math.abs((got[i] as number) - x);
              if (want instanceof Uint8Array) {
                maxSteps = Math.max(maxSteps, difference);
                assert.ok(difference <= 2, `${photo}: output ${o}[${i}] is ${got[i]}, LiteRT ${x}`);
              } else {
                maxFloat = Math.max(maxFloat, difference / floatTolerance);
                assert.ok(
                  difference <= floatTolerance,
                  `${photo}: output ${o}[${i}] is ${got[i]}, LiteRT ${x}`,
                );
              }
            }
          });
          if (expected[0] instanceof Uint8Array) {
            assert.equal(argmax(actual[0] as TensorData), argmax(expected[0]), `${photo}: top-1`);
          }
        }
        t.diagnostic(
          `${PHOTOS.length} photos; largest difference: ${maxSteps} steps, ${maxFloat.toFixed(3)} of the float tolerance`,
        );
      } finally {
        lite.dispose();
        ort.dispose();
      }
    });
  }

  it('names the operator it cannot convert, and where it is', () => {
    // SQRT (75), then SIN (66), which the converter does not cover.
    const model = buildTflite({
      tensors: [
        { name: 'x', shape: [1, 4], type: FLOAT32 },
        { name: 'root', shape: [1, 4], type: FLOAT32 },
        { name: 'y', shape: [1, 4], type: FLOAT32 },
      ],
      operators: [
        { code: 75, inputs: [0], outputs: [1] },
        { code: 66, inputs: [1], outputs: [2] },
      ],
      inputs: [0],
      outputs: [2],
    });
    assert.throws(
      () => convertTfliteToOnnx(model, 'tiny'),
      (error: unknown) =>
        error instanceof ModelLoadError &&
        /^cannot convert tiny to ONNX: unsupported TFLite op SIN \(operator 1 of subgraph 0\)$/.test(
          error.message,
        ),
    );
  });

  it('reads operator codes above 127 from builtin_code, not the one-byte field', () => {
    // GELU (150) on a [1, 4] float tensor; the old one-byte code holds the placeholder 127, as
    // the TFLite converter writes it.
    const model = buildTflite({
      tensors: [
        { name: 'x', shape: [1, 4], type: FLOAT32 },
        { name: 'y', shape: [1, 4], type: FLOAT32 },
      ],
      operators: [{ code: 150, inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    });
    assert.throws(() => convertTfliteToOnnx(model, 'tiny'), /unsupported TFLite op GELU \(operator 0/);
  });

  for (const int8Path of exactInt8Paths()) {
    it(`per-channel int8: QUANTIZE, CONV_2D with one scale per output channel and RELU6, DEQUANTIZE (${int8Path} kernels)`, async () => {
      const model = perChannelInt8Model();
      const converted = convertTfliteToOnnx(model, 'int8');
      assert.deepEqual(converted.ops, ['QUANTIZE', 'CONV_2D', 'DEQUANTIZE']);
      const lite = await LiteRtCompiledModelAdapter.compile(model, 'int8');
      const ort = await OrtCompiledModel.compile(converted.onnx, converted, 'int8', 1, int8Path);
      try {
        let largest = 0;
        const distinct: number[] = [];
        for (let seed = 1; seed <= 20; seed++) {
          const input = Float32Array.from(
            { length: 75 },
            (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 2.6,
          );
          const [want] = (await lite.run([input])) as [Float32Array];
          const [got] = (await ort.run([input])) as [Float32Array];
          distinct.push(...want);
          for (let i = 0; i < want.length; i++)
            largest = Math.max(largest, Math.abs((got[i] as number) - (want[i] as number)));
        }
        // Both dequantize the same int8 steps of 0.03: no difference, or whole steps.
        assert.ok(largest <= 1e-6, `largest difference ${largest}`);
        // Not a degenerate case: the outputs spread over many steps, RELU6's cap among them.
        const steps = new Set(distinct);
        assert.ok(
          steps.size > 50 && steps.has(0) && Math.max(...steps) === Math.fround(0.03 * 200),
          `${steps.size} values`,
        );
      } finally {
        lite.dispose();
        ort.dispose();
      }
    });
  }

  it('refuses truncated and foreign files with a ModelLoadError', () => {
    const bytes = new Uint8Array(readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite')));
    assert.throws(
      () => convertTfliteToOnnx(bytes.subarray(0, bytes.length >> 1), 'cut'),
      (error: unknown) => {
        return error instanceof ModelLoadError && /cut is truncated or corrupt/.test(error.message);
      },
    );
    assert.throws(() => convertTfliteToOnnx(new Uint8Array([0xc0, 0xff, 0xee, 0, 1, 2, 3, 4]), 'coffee'), {
      name: 'ModelLoadError',
      message: /coffee is not a TensorFlow Lite model/,
    });
  });

  it('OrtCompiledModel checks its inputs, hands out copies and refuses to run once disposed', async () => {
    assert.ok(Number.isInteger(CONVERTER_VERSION) && CONVERTER_VERSION >= 1);
    const bytes = new Uint8Array(readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite')));
    const converted = convertTfliteToOnnx(bytes, 'small');
    const model = await OrtCompiledModel.compile(converted.onnx, converted, 'small', 2);
    await assert.rejects(model.run([new Uint8Array(10)]), /needs 49152 uint8 values, got 10/);
    await assert.rejects(model.run([new Float32Array(49152)]), /in a Float32Array/);
    const input = new Uint8Array(49152).fill(128);
    const [first, second] = await Promise.all([model.run([input]), model.run([input])]);
    assert.ok(first?.[0] instanceof Uint8Array && first[0].length === 1001);
    assert.deepEqual(first, second);
    assert.notEqual(first?.[0]?.buffer, second?.[0]?.buffer);
    model.dispose();
    await assert.rejects(model.run([input]), ModelLoadError);
  });
});

/** QUANTIZE -> MEAN over height and width (kept) -> DEQUANTIZE, on `channels` channels. */
function meanModel(type: number, size: number, channels: number, q: readonly number[]): Uint8Array {
  const [inScale, inZero, outScale, outZero] = q as [number, number, number, number];
  return buildTflite({
    tensors: [
      { name: 'x', shape: [1, size, size, channels], type: FLOAT32 },
      {
        name: 'xq',
        shape: [1, size, size, channels],
        type,
        quant: { scale: [inScale], zeroPoint: [inZero] },
      },
      { name: 'axes', shape: [2], type: INT32, data: new Uint8Array(Int32Array.of(1, -2).buffer) },
      { name: 'yq', shape: [1, 1, 1, channels], type, quant: { scale: [outScale], zeroPoint: [outZero] } },
      { name: 'y', shape: [1, 1, 1, channels], type: FLOAT32 },
    ],
    operators: [
      { code: 114, inputs: [0], outputs: [1] },
      // MEAN with ReducerOptions { keep_dims: true }.
      { code: 40, inputs: [1, 2], outputs: [3], options: { type: 27, ints: [[0, 1, 8]] } },
      { code: 6, inputs: [3], outputs: [4] },
    ],
    inputs: [0],
    outputs: [4],
  });
}

describe('MEAN and the TF2 int8 model, on every int8 path this CPU computes exactly', () => {
  for (const [name, type, lowest, q] of [
    ['int8', INT8, -128, [0.015625, -100, 0.0029, 50]],
    ['uint8', 3, 0, [0.015625, 7, 0.0149, 1]],
  ] as const) {
    it(`quantized ${name} MEAN gives LiteRT's output for every sum its 25 inputs can have`, async () => {
      const [size, channels, scale, zero] = [5, 256, q[0], q[1]];
      const count = size * size;
      const model = meanModel(type, size, channels, q);
      const converted = convertTfliteToOnnx(model, 'mean');
      assert.deepEqual(converted.ops, ['QUANTIZE', 'MEAN', 'DEQUANTIZE']);
      const lite = await LiteRtCompiledModelAdapter.compile(model, 'mean');
      const engines = await Promise.all(
        exactInt8Paths().map((path) => OrtCompiledModel.compile(converted.onnx, converted, 'mean', 1, path)),
      );
      try {
        const sums = 255 * count + 1;
        const seen = new Set<number>();
        for (let first = 0; first < sums; first += channels) {
          // Channel c holds stored values adding up to lowest * count + first + c: every sum once.
          // The input scale is a power of two, so both engines quantize these floats exactly.
          const stored = new Float32Array(count * channels);
          for (let c = 0; c < channels; c++) {
            let left = Math.min(first + c, sums - 1);
            for (let p = 0; p < count; p++) {
              const step = Math.min(255, left);
              left -= step;
              stored[p * channels + c] = (step + lowest - zero) * scale;
            }
          }
          const [want] = (await lite.run([stored])) as [Float32Array];
          for (const ort of engines) {
            const [got] = (await ort.run([stored])) as [Float32Array];
            assert.deepEqual(got, want, `${ort.int8Path}, sums from ${first}`);
          }
          for (const value of want) seen.add(value);
        }
        assert.ok(seen.size > 200, `the outputs cover ${seen.size} steps`);
      } finally {
        lite.dispose();
        for (const ort of engines) ort.dispose();
      }
    });
  }

  it('a MEAN of a float tensor is ReduceMean; one whose output shape does not fit is refused', async () => {
    const model = buildTflite({
      tensors: [
        { name: 'x', shape: [1, 3, 4, 2], type: FLOAT32 },
        { name: 'axes', shape: [2], type: INT32, data: new Uint8Array(Int32Array.of(2, 1).buffer) },
        { name: 'y', shape: [1, 2], type: FLOAT32 },
      ],
      operators: [{ code: 40, inputs: [0, 1], outputs: [2], options: { type: 27, ints: [[0, 0, 8]] } }],
      inputs: [0],
      outputs: [2],
    });
    const converted = convertTfliteToOnnx(model, 'float mean');
    const ort = await OrtCompiledModel.compile(converted.onnx, converted, 'float mean', 1);
    const lite = await LiteRtCompiledModelAdapter.compile(model, 'float mean');
    const input = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 10);
    const [[got], [want]] = (await Promise.all([ort.run([input]), lite.run([input])])) as [
      Float32Array[],
      Float32Array[],
    ];
    assert.equal(got?.length, 2);
    for (let i = 0; i < 2; i++) assert.ok(Math.abs((got?.[i] as number) - (want?.[i] as number)) < 1e-5);
    ort.dispose();
    lite.dispose();
    const wrong = buildTflite({
      tensors: [
        { name: 'x', shape: [1, 3, 4, 2], type: FLOAT32 },
        { name: 'axes', shape: [1], type: INT32, data: new Uint8Array(Int32Array.of(7).buffer) },
        { name: 'y', shape: [1, 2], type: FLOAT32 },
      ],
      operators: [{ code: 40, inputs: [0, 1], outputs: [2], options: { type: 27, ints: [[0, 0, 8]] } }],
      inputs: [0],
      outputs: [2],
    });
    assert.throws(() => convertTfliteToOnnx(wrong, 'bad mean'), /MEAN axis 7 is outside rank 4/);
  });

  it('the TF2 MobileNet (int8 per-channel, MEAN) converts and verifies: same top-1, outputs byte-identical to LiteRT on every path', async () => {
    const catalog = new ModelCatalog({ warmUp: false });
    const entry = catalog.entry('imagenet-tf2');
    const tflite = readFileSync(catalog.locate(entry, entry.descriptor.model).path);
    const report = await convertAndVerify(entry.descriptor, tflite, { force: true });
    assert.equal(report.ok, true, report.message);
    assert.ok(report.ops.includes('MEAN'));
    const summary = report.verification;
    assert.equal(summary?.photos, 20);
    assert.equal(summary.top1Agreement, 20);
    assert.equal(summary.maxQuantizedSteps, 0, 'byte-identical');
    assert.deepEqual(summary.int8Paths, exactInt8Paths());
    // Any x86 machine proves the path of CPUs without VNNI, with VNNI or not.
    if (['x64', 'ia32'].includes(process.arch)) assert.ok(summary.int8Paths?.includes('x86-u8u8'));
  });
});

describe('a model whose numbers do not hold together is refused before they are used', () => {
  const faceModel = () =>
    new Uint8Array(readFileSync(join(FACE_MODELS, 'face_detection_short_range.tflite')));

  /** Where a tensor's shape vector starts in the file (root table -> subgraphs[0] -> tensors[i].shape). */
  function shapeOffset(bytes: Uint8Array, tensorIndex: number): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const deref = (at: number) => at + view.getUint32(at, true);
    const field = (table: number, id: number) => {
      const vtable = table - view.getInt32(table, true);
      return table + view.getUint16(vtable + 4 + 2 * id, true);
    };
    const element = (table: number, id: number, index: number) =>
      deref(deref(field(table, id)) + 4 + 4 * index);
    const tensor = element(element(deref(0), 2, 0), 0, tensorIndex);
    return deref(field(tensor, 0)) + 4;
  }

  /** The first DEQUANTIZE of BlazeFace whose output is 4-D (float16 conv weights, [24, 5, 5, 3]). */
  function dequantizedWeights(bytes: Uint8Array): { operator: number; tensor: number; shape: number[] } {
    const model = readTfliteModel(bytes, 'face');
    const subgraph = model.subgraphs[0] as SubGraph;
    const codes = model.operatorCodes;
    const operators = subgraph.operators;
    const operator = operators.findIndex(
      (op) =>
        codes[op.opcodeIndex]?.builtinCode === BuiltinOperator.DEQUANTIZE &&
        subgraph.tensors[op.outputs[0] ?? 0]?.shape.length === 4,
    );
    const tensor = operators[operator]?.outputs[0] as number;
    return { operator, tensor, shape: (subgraph.tensors[tensor] as Tensor).shape };
  }

  it('BlazeFace with a DEQUANTIZE output dimension patched (4 bytes): a clear error at once, on both engines', () => {
    for (const dimension of [100_000_000, 1_000_000]) {
      const bytes = faceModel();
      const { operator, tensor, shape } = dequantizedWeights(bytes);
      assert.deepEqual(shape, [24, 5, 5, 3]);
      new DataView(bytes.buffer).setInt32(shapeOffset(bytes, tensor), dimension, true);
      const started = performance.now();
      const refused = (error: unknown) =>
        error instanceof ModelLoadError &&
        /patched is truncated or corrupt: subgraph 0 (tensor \d+ has a dimension of 100000000|operator \d+ \(DEQUANTIZE\) turns shape \[24, 5, 5, 3\] into \[1000000, 5, 5, 3\])/.test(
          error.message,
        );
      assert.throws(() => convertTfliteToOnnx(bytes, 'patched'), refused);
      assert.throws(() => assertTfliteIntegrity(bytes, 'patched'), refused);
      assert.ok(performance.now() - started < 10_000, 'refused before any loop over the shape');
      assert.ok(operator >= 0);
    }
  });

  it('refuses a constant whose buffer does not match its shape, and indices that name nothing', () => {
    const model = (edit: (spec: Parameters<typeof buildTflite>[0]) => void) => {
      const spec: Parameters<typeof buildTflite>[0] = {
        tensors: [
          { name: 'x', shape: [1, 4], type: FLOAT32 },
          { name: 'w', shape: [2, 4], type: FLOAT32, data: new Uint8Array(32) },
          { name: 'y', shape: [1, 2], type: FLOAT32 },
        ],
        // FullyConnectedOptions: no activation.
        operators: [
          { code: 9, inputs: [0, 1, -1], outputs: [2], options: { type: 8, ints: [[0, 0, 8] as const] } },
        ],
        inputs: [0],
        outputs: [2],
      };
      edit(spec);
      return buildTflite(spec);
    };
    assert.doesNotThrow(() =>
      convertTfliteToOnnx(
        model(() => undefined),
        'fine',
      ),
    );
    const cases: [string, (spec: Parameters<typeof buildTflite>[0]) => void, RegExp][] = [
      [
        'short buffer',
        (s) => Object.assign(s.tensors[1] as object, { shape: [3, 4] }),
        /tensor 1 has shape \[3, 4\] \(48 bytes\), but its buffer holds 32/,
      ],
      [
        'operator input',
        (s) => Object.assign(s.operators[0] as object, { inputs: [0, 7, -1] }),
        /operator 0 \(input\) names tensor 7, but the subgraph has 3/,
      ],
      [
        'operator output',
        (s) => Object.assign(s.operators[0] as object, { outputs: [-1] }),
        /operator 0 \(output\) names tensor -1/,
      ],
      ['graph output', (s) => Object.assign(s, { outputs: [3] }), /subgraph 0 output names tensor 3/],
      [
        'rank',
        (s) => Object.assign(s.tensors[0] as object, { shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }),
        /tensor 0 has 9 dimensions/,
      ],
      [
        'elements',
        (s) => Object.assign(s.tensors[2] as object, { shape: [65536, 65536] }),
        /tensor 2 has more than 268435456 elements/,
      ],
      [
        'negative',
        (s) => Object.assign(s.tensors[2] as object, { shape: [1, -5] }),
        /tensor 2 has a dimension of -5/,
      ],
    ];
    for (const [what, edit, message] of cases) {
      const bytes = model(edit);
      assert.throws(() => convertTfliteToOnnx(bytes, what), { name: 'ModelLoadError', message }, what);
      assert.throws(() => assertTfliteIntegrity(bytes, what), { name: 'ModelLoadError', message }, what);
    }
  });

  /**
   * Applies 300 random 1- and 4-byte mutations to `model` in a worker (see tflite-fuzz-worker.ts),
   * with a watchdog per case. Resolves with how many were refused and converted, and the
   * failures: a case that threw anything but a TfliteFnError or let array buffers grow wild.
   */
  async function fuzz(
    model: Uint8Array,
    seedValue: number,
  ): Promise<{ refused: number; converted: number; failures: string[] }> {
    let seed = seedValue;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * below);
    };
    const extremes = [0, 1, 0x7f, 0xff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 100_000_000, 65_536];
    const mutations: Mutation[] = Array.from({ length: 300 }, (_, i) => {
      if (i % 2 === 0) return { at: random(model.length), bytes: [random(256)] };
      const value = i % 4 === 1 ? (extremes[random(extremes.length)] as number) : random(2 ** 32);
      const at = random(model.length >> 2) << 2;
      return { at, bytes: [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24] };
    });
    const MB = 1024 * 1024;
    const worker = new Worker(new URL('./tflite-fuzz-worker.js', import.meta.url), {
      workerData: { model, mutations, maxArrayBufferBytes: 256 * MB },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const failures: string[] = [];
    const summary = await new Promise<{ refused: number; converted: number }>((resolve, reject) => {
      let current = -1;
      // Generous: a case takes milliseconds; a shape-sized loop would take minutes.
      const PER_CASE_MS = 10_000;
      let watchdog = setTimeout(() => undefined, 0);
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          void worker.terminate();
          reject(
            new Error(`mutation ${current} ${JSON.stringify(mutations[current])} ran over ${PER_CASE_MS} ms`),
          );
        }, PER_CASE_MS);
      };
      arm();
      worker.on('message', (message: FuzzMessage) => {
        if ('started' in message) {
          current = message.started;
          arm();
        } else if ('failed' in message) {
          failures.push(
            `mutation ${message.failed} ${JSON.stringify(mutations[message.failed])}: ${message.error}`,
          );
        } else {
          clearTimeout(watchdog);
          resolve(message);
        }
      });
      worker.on('error', (error) => {
        clearTimeout(watchdog);
        reject(
          new Error(
            `mutation ${current} ${JSON.stringify(mutations[current])} crashed the worker: ${error.message}`,
          ),
        );
      });
    });
    return { ...summary, failures };
  }

  /** A float16 weight, DEQUANTIZE to float32 and a CONV_2D, as BlazeFace stores its weights. */
  function float16WeightsModel(): Uint8Array {
    const half = new Uint16Array(2 * 3 * 3 * 3).map((_, i) => 0x3c00 + i); // 1.0 and a little more
    return buildTflite({
      tensors: [
        { name: 'x', shape: [1, 4, 4, 3], type: FLOAT32 },
        { name: 'w16', shape: [2, 3, 3, 3], type: FLOAT16, data: new Uint8Array(half.buffer) },
        { name: 'w', shape: [2, 3, 3, 3], type: FLOAT32 },
        { name: 'b', shape: [2], type: FLOAT32, data: new Uint8Array(8) },
        { name: 'y', shape: [1, 2, 2, 2], type: FLOAT32 },
      ],
      operators: [
        { code: 6, inputs: [1], outputs: [2] },
        // Conv2DOptions: VALID padding, stride 1, no activation.
        {
          code: 3,
          inputs: [0, 2, 3],
          outputs: [4],
          options: {
            type: 1,
            ints: [
              [0, 1, 8],
              [1, 1, 32],
              [2, 1, 32],
              [3, 0, 8],
            ],
          },
        },
      ],
      inputs: [0],
      outputs: [4],
    });
  }

  /** MediaPipe's transposed convolution: its options are raw struct bytes, a surface of their own. */
  function transposeConvModel(): Uint8Array {
    return buildTflite({
      tensors: [
        { name: 'x', shape: [1, 3, 3, 2], type: FLOAT32 },
        { name: 'w', shape: [1, 2, 2, 2], type: FLOAT32, data: new Uint8Array(32) },
        { name: 'b', shape: [1], type: FLOAT32, data: new Uint8Array(4) },
        { name: 'y', shape: [1, 5, 5, 1], type: FLOAT32 },
      ],
      operators: [
        {
          code: 32,
          inputs: [0, 1, 2],
          outputs: [3],
          // SAME padding, strides 2 and 2.
          custom: {
            code: 'Convolution2DTransposeBias',
            options: new Uint8Array(Int32Array.of(1, 2, 2).buffer),
          },
        },
      ],
      inputs: [0],
      outputs: [3],
    });
  }

  /** A uint8 RESIZE_BILINEAR (align_corners) then LOGISTIC: positions and tables computed at conversion. */
  function quantizedResizeModel(): Uint8Array {
    const q = { scale: [0.1], zeroPoint: [7] };
    return buildTflite({
      tensors: [
        { name: 'x', shape: [1, 3, 4, 2], type: UINT8, quant: q },
        { name: 'size', shape: [2], type: INT32, data: new Uint8Array(Int32Array.of(7, 9).buffer) },
        { name: 'r', shape: [1, 7, 9, 2], type: UINT8, quant: q },
        { name: 'y', shape: [1, 7, 9, 2], type: UINT8, quant: { scale: [1 / 256], zeroPoint: [0] } },
      ],
      operators: [
        { code: 23, inputs: [0, 1], outputs: [2], options: { type: 15, ints: [[2, 1, 8]] } },
        { code: 14, inputs: [2], outputs: [3] },
      ],
      inputs: [0],
      outputs: [3],
    });
  }

  for (const [name, build, seed] of [
    ['an int8 convolution', perChannelInt8Model, 12],
    ['float16 weights dequantized for a convolution', float16WeightsModel, 7],
    ["MediaPipe's transposed convolution", transposeConvModel, 5],
    ['a uint8 RESIZE_BILINEAR and LOGISTIC', quantizedResizeModel, 3],
  ] as const) {
    it(`300 random 1- and 4-byte mutations of a small model (${name}): each converted or refused with a TfliteFnError, none hangs or allocates wildly`, async () => {
      const model = build();
      assert.doesNotThrow(() => convertTfliteToOnnx(model, name), 'the unmutated model converts');
      const summary = await fuzz(model, seed);
      assert.deepEqual(summary.failures, []);
      assert.equal(summary.refused + summary.converted, 300);
      assert.ok(summary.refused > 30, `most structural mutations are refused (${summary.refused})`);
    });
  }
});
