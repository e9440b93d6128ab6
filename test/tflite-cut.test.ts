import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { verifyConversion } from '../src/convert/verify.js';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { ModelLoadError } from '../src/errors.js';
import { cutGraph } from '../src/tflite/cut.js';
import { exactInt8Paths } from '../src/util/cpu.js';
import { IMAGES, SHARED_MODELS } from './helpers.js';

const SSD = 'ssd_mobilenet_v1_coco_quant_detect.tflite';
const DEEPLAB = 'deeplabv3_mnv2_dm05_pascal_quant.tflite';
/** The two inputs of SSD's TFLite_Detection_PostProcess: box encodings, class scores after LOGISTIC. */
const SSD_HEAD = ['Squeeze', 'convert_scores'];
/** The input of DeepLab's INT64 ArgMax: per-class scores at full size. */
const DEEPLAB_HEAD = ['ResizeBilinear_2'];

function model(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SHARED_MODELS, name)));
}

/** A photo stretched to size x size RGB bytes, as both models take it. */
async function pixels(name: string, size: number): Promise<Uint8Array> {
  const raw = await sharp(join(IMAGES, name))
    .resize(size, size, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(raw);
}

describe('cutGraph', () => {
  it('stops SSD at the inputs of its post-processing op, and LiteRT.js runs it on a real photo', async () => {
    const bytes = model(SSD);
    const cut = cutGraph(bytes, SSD_HEAD, SSD);
    assert.deepEqual(bytes, model(SSD), 'the original bytes are not touched');
    const litert = await LiteRtCompiledModelAdapter.compile(cut, SSD);
    try {
      assert.deepEqual(litert.outputs, [
        { name: 'Squeeze', dtype: 'uint8', shape: [1, 1917, 4] },
        { name: 'convert_scores', dtype: 'uint8', shape: [1, 1917, 91] },
      ]);
      const [boxes, scores] = await litert.run([await pixels('kite_and_cold.jpg', 300)]);
      assert.equal(boxes?.length, 1917 * 4);
      // Best anchor per class (column 0 is background). convert_scores is quantized with
      // scale 1/256, so 128 is a score of 0.5. Measured: person 194, kite 168.
      const best = (column: number) => {
        let max = 0;
        for (let anchor = 0; anchor < 1917; anchor++)
          max = Math.max(max, scores?.[anchor * 91 + column] ?? 0);
        return max;
      };
      const [person, kite, toaster] = [1, 38, 80].map(best);
      assert.ok((person ?? 0) > 128 && (kite ?? 0) > 128, `person ${person}, kite ${kite}`);
      assert.ok((toaster ?? 255) < 64, `toaster ${toaster}`);
    } finally {
      litert.dispose();
    }
  });

  it("stops DeepLab before its INT64 ArgMax; the argmax of its scores is 'person' over Grace Hopper", async () => {
    const litert = await LiteRtCompiledModelAdapter.compile(
      cutGraph(model(DEEPLAB), DEEPLAB_HEAD, DEEPLAB),
      DEEPLAB,
    );
    const size = 513;
    const classes = 21;
    try {
      assert.deepEqual(litert.outputs, [
        { name: 'ResizeBilinear_2', dtype: 'uint8', shape: [1, size, size, classes] },
      ]);
      const [scores] = await litert.run([await pixels('grace_hopper.jpg', size)]);
      assert.equal(scores?.length, size * size * classes);
      const classAt = (x: number, y: number) => {
        const at = (y * size + x) * classes;
        let best = 0;
        for (let c = 1; c < classes; c++) if ((scores?.[at + c] ?? 0) > (scores?.[at + best] ?? 0)) best = c;
        return best;
      };
      // Share of 'person' (Pascal VOC class 15) pixels in a box; measured: 0.95 in the centre
      // (her uniform), 0 in the top-left corner (the backdrop), 0.67 over the whole photo.
      const personShare = (x0: number, y0: number, x1: number, y1: number) => {
        let person = 0;
        let all = 0;
        for (let y = Math.floor(y0 * size); y < y1 * size; y++) {
          for (let x = Math.floor(x0 * size); x < x1 * size; x++) {
            all++;
            if (classAt(x, y) === 15) person++;
          }
        }
        return person / all;
      };
      const centre = personShare(0.3, 0.3, 0.7, 0.7);
      const corner = personShare(0, 0, 0.15, 0.1);
      assert.ok(centre > 0.85, `centre is ${centre} person`);
      assert.ok(corner < 0.1, `top-left corner is ${corner} person`);
    } finally {
      litert.dispose();
    }
  });

  it('drops signature_defs, so LiteRT.js names the outputs after the cut tensors', async () => {
    const name = 'movenet_single_pose_lightning_ptq.tflite';
    const bytes = model(name);
    const whole = await LiteRtCompiledModelAdapter.compile(bytes, name);
    // MoveNet has a serving_default signature that renames its tensors.
    assert.deepEqual(
      whole.outputs.map((output) => output.name),
      ['output_0'],
    );
    whole.dispose();
    const cut = await LiteRtCompiledModelAdapter.compile(
      cutGraph(bytes, ['StatefulPartitionedCall:0'], name),
      name,
    );
    assert.deepEqual(cut.outputs, [
      { name: 'StatefulPartitionedCall:0', dtype: 'float32', shape: [1, 1, 17, 3] },
    ]);
    const [keypoints] = await cut.run([new Uint8Array(192 * 192 * 3).fill(90)]);
    assert.equal(keypoints?.length, 17 * 3);
    cut.dispose();
  });

  it('gives the converter models it converts, as close to LiteRT as set-up verification demands: SSD and DeepLab cut where the tasks cut them', async () => {
    const paths = exactInt8Paths().slice(0, 1);
    for (const [name, outputs, size, photo, shapes] of [
      [
        SSD,
        SSD_HEAD,
        300,
        'kite_and_cold.jpg',
        [
          [1, 1917, 4],
          [1, 1917, 91],
        ],
      ],
      [DEEPLAB, DEEPLAB_HEAD, 513, 'grace_hopper.jpg', [[1, 513, 513, 21]]],
    ] as const) {
      const cut = cutGraph(model(name), outputs, name);
      const conversion = convertTfliteToOnnx(cut, name);
      assert.deepEqual(
        conversion.outputs.map((output) => [output.name, output.shape]),
        outputs.map((output, i) => [output, shapes[i]]),
      );
      const photos = [{ name: photo, inputs: [await pixels(photo, size)] }];
      const outcome = await verifyConversion(cut, conversion, photos, 0, name, paths);
      assert.ok(outcome.ok, outcome.message);
    }
  });

  it('refuses cuts it cannot make, naming the model', () => {
    const bytes = model(SSD);
    const refuses = (outputs: readonly string[], pattern: RegExp) =>
      assert.throws(
        () => cutGraph(bytes, outputs, 'ssd.tflite'),
        (error: unknown) =>
          error instanceof ModelLoadError &&
          pattern.test(error.message) &&
          error.message.includes('ssd.tflite'),
        outputs.join(', '),
      );
    refuses(['no such tensor'], /has no tensor named 'no such tensor'/);
    refuses([], /at least one output/);
    refuses(['Squeeze', 'Squeeze'], /same output tensor twice/);
    refuses(['anchors'], /no operator computes it/);
    // The class predictors run between the box predictors, so they cannot be dropped alone.
    refuses(['Squeeze'], /operator \d+ \(CONV_2D\) runs before them but is not needed/);
  });

  it('refuses a truncated or corrupt model as corrupt, never with a crash', () => {
    const bytes = model(SSD);
    for (const keep of [0, 8, 1000, bytes.length / 2]) {
      assert.throws(
        () => cutGraph(bytes.subarray(0, keep), SSD_HEAD, 'broken'),
        ModelLoadError,
        `kept ${keep}`,
      );
    }
    // The root offset pointing past the end.
    const badRoot = bytes.slice();
    new DataView(badRoot.buffer).setUint32(0, bytes.length + 100, true);
    assert.throws(() => cutGraph(badRoot, SSD_HEAD, 'broken'), /broken is truncated or corrupt/);
  });
});
