/**
 * Dynamic batching (issue 15): converted graphs with an open batch dimension, batched runs on
 * the native engine, the batcher that gathers concurrent requests, and the server with it on.
 *
 * The batched-equals-alone checks use real models and real photos: each item of a batch must
 * get exactly (uint8) the outputs its photo gets alone, and different photos make sure an item
 * cannot pass with another item's answer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { convertTfliteToOnnx } from '../src/convert/convert.js';
import { OrtCompiledModel } from '../src/engine/ort-model.js';
import type { TensorData } from '../src/engine/types.js';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb, rgbToTensor, type TensorLayout } from '../src/image/to-tensor.js';
import { cutGraph } from '../src/tflite/cut.js';
import { IMAGES, SHARED_MODELS } from './helpers.js';

/** Different photos: a batch item answered with its neighbour's outputs cannot pass. */
const PHOTOS = ['grace_hopper.jpg', 'pets.jpg', 'food.jpg', 'parrot.jpg'];

const SELFIE = join(
  dirname(createRequire(import.meta.url).resolve('@mediapipe/selfie_segmentation/package.json')),
  'selfie_segmentation.tflite',
);

async function photoTensors(layout: TensorLayout): Promise<TensorData[]> {
  const tensors: TensorData[] = [];
  for (const name of PHOTOS) {
    const image = await openImage(new Uint8Array(readFileSync(join(IMAGES, name))));
    tensors.push(rgbToTensor(await resizeToRgb(image, layout.width, layout.height, 'fill'), layout));
  }
  return tensors;
}

function rgb8(size: number): TensorLayout {
  return { width: size, height: size, format: 'rgb8', mean: [0, 0, 0], std: [1, 1, 1] };
}

function sharedModel(file: string, cutAt?: readonly string[]): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(SHARED_MODELS, file)));
  return cutAt ? cutGraph(bytes, cutAt, file) : bytes;
}

/**
 * Converts the model, runs every photo alone and all of them as one batch, and compares item
 * by item: `tolerance` 0 means the very same values.
 */
async function assertBatchEqualsAlone(
  tflite: Uint8Array,
  layout: TensorLayout,
  label: string,
  tolerance = 0,
) {
  const conversion = convertTfliteToOnnx(tflite, label);
  assert.deepEqual(conversion.batch, { open: true });
  const model = await OrtCompiledModel.compile(conversion.onnx, conversion, label, 1, undefined, true);
  try {
    const photos = await photoTensors(layout);
    const alone: TensorData[][] = [];
    for (const photo of photos) alone.push(await model.run([photo]));
    const batched = await model.runBatch(photos.map((photo) => [photo]));
    assert.equal(batched.length, photos.length);
    batched.forEach((outputs, item) => {
      outputs.forEach((got, output) => {
        const want = alone[item]?.[output] as TensorData;
        assert.equal(got.length, want.length, `item ${item}, output ${output}: length`);
        let worst = 0;
        for (let i = 0; i < want.length; i++)
          worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
        assert.ok(worst <= tolerance, `${label} item ${item}, output ${output}: differs by ${worst}`);
      });
    });
    // The photos differ, so the items' answers must too (no item answered with another's).
    assert.notDeepEqual(batched[0]?.[0], batched[1]?.[0]);
  } finally {
    model.dispose();
  }
}

describe('converted graphs run batches: each item gets its own outputs', () => {
  it('MobileNet v2 (uint8): byte-identical to each photo alone', async () => {
    await assertBatchEqualsAlone(sharedModel('mobilenet_v2_1.0_224_quant.tflite'), rgb8(224), 'imagenet');
  });

  it('SSD MobileNet up to its post-processing (RESHAPE, CONCATENATION along anchors): byte-identical', async () => {
    const tflite = sharedModel('ssd_mobilenet_v1_coco_quant_detect.tflite', ['Squeeze', 'convert_scores']);
    await assertBatchEqualsAlone(tflite, rgb8(300), 'ssd');
  });

  it('DeepLab v3 up to its ARG_MAX (uint8 RESIZE_BILINEAR, sizes taken from the batch): byte-identical', async () => {
    const tflite = sharedModel('deeplabv3_mnv2_dm05_pascal_quant.tflite', ['ResizeBilinear_2']);
    await assertBatchEqualsAlone(tflite, rgb8(513), 'deeplab');
  });

  it('selfie segmentation (float32): within the verification tolerance of each photo alone', async () => {
    const layout: TensorLayout = {
      width: 256,
      height: 256,
      format: 'rgb32f',
      mean: [0, 0, 0],
      std: [255, 255, 255],
    };
    await assertBatchEqualsAlone(new Uint8Array(readFileSync(SELFIE)), layout, 'selfie', 1e-4);
  });

  it('MoveNet, whose graph reshapes its batch dimension away, is converted unbatched and says why', async () => {
    const conversion = convertTfliteToOnnx(
      sharedModel('movenet_single_pose_lightning_ptq.tflite'),
      'movenet',
    );
    assert.equal(conversion.batch.open, false);
    assert.match(conversion.batch.open ? '' : conversion.batch.reason, /batch dimension.*operator \d+/);
    const model = await OrtCompiledModel.compile(conversion.onnx, conversion, 'movenet', 1, undefined, false);
    try {
      const input = new Uint8Array(192 * 192 * 3);
      await assert.rejects(model.runBatch([[input], [input]]), /does not run batches/);
      // One item alone still runs through runBatch, the way run does.
      assert.equal((await model.runBatch([[input]])).length, 1);
    } finally {
      model.dispose();
    }
  });

  it('a batch with one malformed item is refused before it runs, naming the input', async () => {
    const conversion = convertTfliteToOnnx(sharedModel('mobilenet_v1_0.25_128_quant.tflite'), 'small');
    const model = await OrtCompiledModel.compile(conversion.onnx, conversion, 'small', 1, undefined, true);
    try {
      const good = new Uint8Array(128 * 128 * 3);
      await assert.rejects(
        model.runBatch([[good], [new Uint8Array(7)], [good]]),
        /needs 49152 uint8 values, got 7/,
      );
    } finally {
      model.dispose();
    }
  });
});
