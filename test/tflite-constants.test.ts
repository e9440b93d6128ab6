import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelLoadError } from '../src/errors.js';
import { ModelConstants, realValues } from '../src/tflite/constants.js';
import { FlexBufferError, readFlexMap } from '../src/tflite/flexbuffer.js';
import { readTfliteModel } from '../src/tflite/read.js';
import { SHARED_MODELS } from './helpers.js';

const SSD = 'ssd_mobilenet_v1_coco_quant_detect.tflite';

function model(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SHARED_MODELS, name)));
}

/** The FlexBuffer bytes of SSD's post-processing options, as stored in the file. */
function ssdOptionBytes(): Uint8Array {
  const operators = readTfliteModel(model(SSD), SSD).subgraphs[0]?.operators ?? [];
  const bytes = operators.at(-1)?.customOptions;
  assert.ok(bytes);
  return bytes.slice();
}

/** Where the root map's values start: the root is a 1-byte offset back from the last 3 bytes. */
function rootValues(bytes: Uint8Array): number {
  assert.equal(bytes.at(-1), 1, 'a 1-byte root, as in the SSD file');
  return bytes.length - 3 - (bytes.at(-3) as number);
}

describe('constants and custom options of a TFLite model', () => {
  it("reads TFLite_Detection_PostProcess's options from SSD", () => {
    const options = ModelConstants.open(model(SSD), SSD).customOptions('TFLite_Detection_PostProcess');
    assert.deepEqual([...options.keys].sort(), [
      '_output_quantized',
      'h_scale',
      'max_classes_per_detection',
      'max_detections',
      'nms_iou_threshold',
      'nms_score_threshold',
      'num_classes',
      'w_scale',
      'x_scale',
      'y_scale',
    ]);
    assert.equal(options.integer('num_classes'), 90);
    assert.equal(options.integer('max_detections'), 10);
    assert.equal(options.integer('max_classes_per_detection'), 1);
    assert.deepEqual(
      ['y_scale', 'x_scale', 'h_scale', 'w_scale'].map((key) => options.number(key)),
      [10, 10, 5, 5],
    );
    assert.ok(Math.abs(options.number('nms_iou_threshold') - 0.6) < 1e-6);
    assert.ok(options.number('nms_score_threshold') < 1e-6);
    assert.equal(options.boolean('_output_quantized'), true);
    // This file leaves these to the op's defaults; a task must not assume them present.
    assert.equal(options.has('use_regular_nms'), false);
    assert.equal(options.has('detections_per_class'), false);
  });

  it("reads SSD's anchors with their quantization and real values", () => {
    const anchors = ModelConstants.open(model(SSD), SSD).tensor('anchors');
    assert.equal(anchors.type, 'UINT8');
    assert.deepEqual(anchors.shape, [1917, 4]);
    assert.ok(anchors.data instanceof Uint8Array && anchors.data.length === 1917 * 4);
    assert.deepEqual(anchors.quantization?.zeroPoint, [0]);
    const scale = anchors.quantization?.scale[0] ?? 0;
    assert.ok(Math.abs(scale - 0.006453) < 1e-6, `scale ${scale}`);
    const real = realValues(anchors);
    // Anchors are [y centre, x centre, height, width], centres inside the unit square.
    for (let i = 0; i < 1917; i++) {
      for (const k of [0, 1]) {
        const centre = real[4 * i + k] as number;
        assert.ok(centre > 0 && centre < 1, `anchor ${i} centre ${centre}`);
      }
    }
    assert.equal(real[0], (anchors.data[0] as number) * scale);
  });

  it("describes any tensor, and names the post-processing op's inputs", () => {
    const constants = ModelConstants.open(model(SSD), SSD);
    assert.deepEqual(constants.operatorInputs('TFLite_Detection_PostProcess'), [
      'Squeeze',
      'convert_scores',
      'anchors',
    ]);
    const scores = constants.describe('convert_scores');
    assert.equal(scores.type, 'UINT8');
    assert.deepEqual(scores.shape, [1, 1917, 91]);
    // LOGISTIC's output: TFLite fixes it to scale 1/256, zero point 0.
    assert.deepEqual(scores.quantization, { scale: [1 / 256], zeroPoint: [0], axis: 0 });
    const detections = constants.describe('TFLite_Detection_PostProcess');
    assert.equal(detections.type, 'FLOAT32');
    assert.equal(detections.quantization, undefined);
    assert.throws(() => constants.describe('nope'), /has no tensor named 'nope'/);
  });

  it('dequantizes per-channel constants slice by slice along their axis', () => {
    const name = 'tf2_mobilenet_v2_1.0_224_ptq.tflite';
    const weights = ModelConstants.open(model(name), name).tensor(
      'MobileNetV2/Conv2d_0_0/Conv2D;StatefulPartitionedCall/MobileNetV2/Conv2d_0_0/Conv2D',
    );
    assert.equal(weights.type, 'INT8');
    assert.deepEqual(weights.shape, [32, 3, 3, 3]);
    const q = weights.quantization;
    assert.equal(q?.axis, 0);
    assert.equal(q?.scale.length, 32);
    assert.ok(new Set(q?.scale).size > 1, 'the channels have different scales');
    const real = realValues(weights);
    for (let i = 0; i < real.length; i++) {
      const channel = Math.floor(i / 27);
      const expected =
        ((weights.data[i] as number) - (q?.zeroPoint[channel] as number)) * (q?.scale[channel] as number);
      assert.ok(Math.abs((real[i] as number) - expected) < 1e-6, `element ${i}`);
    }
  });

  it('refuses what is not there, or not of the type asked for, naming the model', () => {
    const constants = ModelConstants.open(model(SSD), 'ssd.tflite');
    const refuses = (read: () => unknown, pattern: RegExp) =>
      assert.throws(read, (error: unknown) => error instanceof ModelLoadError && pattern.test(error.message));
    refuses(() => constants.tensor('nope'), /ssd\.tflite has no tensor named 'nope'/);
    refuses(() => constants.tensor('Squeeze'), /tensor 'Squeeze' of ssd\.tflite is not a constant/);
    refuses(() => constants.customOptions('Nope'), /ssd\.tflite has no Nope operator/);
    const options = constants.customOptions('TFLite_Detection_PostProcess');
    refuses(
      () => options.number('use_regular_nms'),
      /options of TFLite_Detection_PostProcess in ssd\.tflite have no 'use_regular_nms'/,
    );
    refuses(() => options.boolean('num_classes'), /'num_classes' is 90, not a boolean/);
    refuses(() => options.integer('nms_iou_threshold'), /'nms_iou_threshold' is 0.6\d*, not an integer/);
    refuses(() => options.string('x_scale'), /not a string/);
  });
});

describe('FlexBuffer map reader on hostile bytes', () => {
  it('reads the real options byte for byte as TFLite wrote them', () => {
    const map = readFlexMap(ssdOptionBytes());
    assert.equal(map.size, 10);
    assert.equal(map.get('num_classes'), 90);
  });

  it('refuses bad widths, a root that is not a map, nested values and duplicate keys, saying which', () => {
    const refuses = (bytes: Uint8Array, pattern: RegExp) =>
      assert.throws(
        () => readFlexMap(bytes),
        (e: unknown) => e instanceof FlexBufferError && pattern.test(e.message),
      );
    const good = ssdOptionBytes();
    refuses(new Uint8Array(0), /too short/);
    const width = good.slice();
    width[width.length - 1] = 3;
    refuses(width, /widths are 1, 2, 4 or 8/);
    const vector = good.slice();
    vector[vector.length - 2] = (10 << 2) | 2;
    refuses(vector, /is a VECTOR, not a map/);
    const values = rootValues(good);
    const nested = good.slice();
    nested[values + 10 * 4 + 1] = 10 << 2; // the second value ('h_scale') becomes a VECTOR
    refuses(nested, /'h_scale' holds a VECTOR; only ints, floats, bools and strings are read/);
    const blob = good.slice();
    blob[values + 10 * 4 + 1] = 25 << 2;
    refuses(blob, /'h_scale' holds a BLOB/);
    const far = good.slice();
    far[values + 4] = 250; // h_scale's value becomes an INDIRECT_FLOAT pointing 250 bytes back
    far[values + 10 * 4 + 1] = (8 << 2) | 2;
    refuses(far, /'h_scale' reads \d+ bytes at -\d+/);
    const count = good.slice();
    new DataView(count.buffer).setUint32(values - 4, 0xffffffff, true);
    refuses(count, /keys vector has another length|reads/);
    // The second key's offset moved to point at the first key: the same name twice.
    const view = new DataView(good.buffer);
    const keys = values - 12 - view.getUint32(values - 12, true);
    const keyWidth = view.getUint32(values - 8, true);
    assert.equal(keyWidth, 1, 'one-byte key offsets, as in the SSD file');
    const twice = good.slice();
    twice[keys + 1] = (good[keys] as number) + 1;
    refuses(twice, /has the key '[a-z_]+' twice/);
  });

  it('every truncation and 3000 random corruptions end in a map or a FlexBufferError, never anything else', () => {
    const good = ssdOptionBytes();
    const cases: Uint8Array[] = [];
    for (let keep = 0; keep < good.length; keep++) cases.push(good.subarray(0, keep));
    let seed = 13;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const bytes = good.slice();
      for (let k = 0; k <= i % 3; k++) bytes[random() % bytes.length] = random() & 0xff;
      cases.push(bytes);
    }
    let read = 0;
    let refused = 0;
    for (const bytes of cases) {
      try {
        readFlexMap(bytes);
        read++;
      } catch (error) {
        if (!(error instanceof FlexBufferError)) throw error;
        refused++;
      }
    }
    assert.ok(refused > 0 && read > 0, `read ${read}, refused ${refused}`);
  });
});
