/**
 * DeepLab's class map without its 513x513 upsampling (segment.upsample): the same classes,
 * pixel for pixel, as the argmax of LiteRT's own upsampled scores. Checked against the model
 * cut one op later (at ResizeBilinear_2, what the task served before) run on LiteRT, on real
 * photos of people, dogs, kites and a photo with no PASCAL VOC class, and on random scores
 * made to tie, against the resize computed in full. The descriptor's upsample is checked against
 * the model's own resize op.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import type { TensorData } from '../src/engine/types.js';
import { defaultImageLimits, openImage } from '../src/image/decode.js';
import { resizeToRgb } from '../src/image/to-tensor.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { runTask } from '../src/tasks/run.js';
import type { SegmentState } from '../src/tasks/segment/check.js';
import { segmentTask } from '../src/tasks/segment/index.js';
import { argmaxClasses } from '../src/tasks/segment/masks.js';
import { type Upsampling, upsampledArgmax } from '../src/tasks/segment/upsample.js';
import type { LoadedModel } from '../src/tasks/task.js';
import { ModelConstants } from '../src/tflite/constants.js';
import { cutGraph } from '../src/tflite/cut.js';
import { axisSampling, type ResizeMode } from '../src/tflite/resize-bilinear.js';
import { BuiltinOptionsType, ResizeBilinearOptions } from '../src/tflite/schema.js';
import { resizeStored } from './bilinear-reference.js';
import { SHARED, SHARED_MODELS } from './helpers.js';

const DEEPLAB = 'deeplabv3_mnv2_dm05_pascal_quant.tflite';
const SMALL = 'ResizeBilinear_1';
const UPSAMPLED = 'ResizeBilinear_2';

/** The class of every pixel (the first of equal scores, as TFLite's ArgMax): the segment task's own. */
function argmax(scores: TensorData, channels: number): Uint8Array {
  return argmaxClasses(scores, scores.length / channels, channels);
}

/** Indices where two class maps differ (the first few), for a readable failure. */
function differences(ours: Uint8Array, theirs: Uint8Array): string[] {
  const wrong: string[] = [];
  for (let i = 0; i < theirs.length && wrong.length < 5; i++)
    if (ours[i] !== theirs[i]) wrong.push(`pixel ${i}: ${ours[i]} vs ${theirs[i]}`);
  return wrong;
}

describe("DeepLab's class map from its 33x33 scores equals LiteRT's argmax of the 513x513 ones", async () => {
  const file = new Uint8Array(readFileSync(join(SHARED_MODELS, DEEPLAB)));
  const both = cutGraph(file, [SMALL, UPSAMPLED], 'deeplab cut at both');
  const photos = [
    'images/grace_hopper.jpg',
    'images/solvay.jpg',
    'images/pets.jpg',
    'images/kite_and_cold.jpg',
    'images/hot_dog.jpg',
    // Every pixel background: no PASCAL VOC class in the photo.
    'imagenet-sample/n04243546_slot.JPEG',
  ];
  const catalogs = { default: new ModelCatalog(), litert: new ModelCatalog({ engine: 'litert' }) };

  for (const name of photos) {
    it(`${name}: pixel for pixel, on the default engine and on LiteRT`, async (t) => {
      const bytes = readFileSync(join(SHARED, name));
      const rgb = await resizeToRgb(await openImage(bytes, defaultImageLimits()), 513, 513, 'fill');
      const lite = await LiteRtCompiledModelAdapter.compile(both, 'deeplab');
      const [small, upsampled] = (await lite.run([rgb]).finally(() => lite.dispose())) as Uint8Array[];
      assert.ok(small && upsampled);
      // The TypeScript statement of the arithmetic is LiteRT's on real scores, byte for byte.
      const resized = resizeStored(small, [1, 33, 33, 21], [1, 513, 513, 21], {
        alignCorners: true,
        halfPixelCenters: false,
      });
      assert.ok(
        resized.every((value, i) => value === upsampled[i]),
        'resize-bilinear.ts gives LiteRT bytes',
      );
      const expected = argmax(upsampled, 21);
      for (const [engine, catalog] of Object.entries(catalogs)) {
        const result = await runTask(segmentTask, bytes, segmentTask.parseOptions({}), {
          model: 'deeplab',
          catalog,
        });
        if (engine === 'litert') assert.equal(result.engine, 'litert');
        assert.deepEqual(result.mask, { width: 513, height: 513, kind: 'classes' });
        assert.deepEqual(differences(result.pixels.classes, expected), [], `${engine} (${result.engine})`);
        t.diagnostic(`${engine} (${result.engine}): ${JSON.stringify(result.classes.map((c) => c.label))}`);
      }
    });
  }

  it("the descriptor's upsample is the model's own last resize, and the task samples it so", async () => {
    const constants = ModelConstants.open(file, 'deeplab');
    const resize = constants.producerOf(UPSAMPLED);
    assert.equal(resize.code, 'RESIZE_BILINEAR');
    assert.equal(resize.inputs[0], SMALL, 'it resizes the output the graph is cut at');
    const options = resize.options(BuiltinOptionsType.ResizeBilinearOptions, ResizeBilinearOptions);
    assert.deepEqual([options?.alignCorners, options?.halfPixelCenters], [true, false], 'align_corners');
    const [from, to] = [constants.describe(SMALL), constants.describe(UPSAMPLED)];
    assert.deepEqual([from.type, to.type], ['UINT8', 'UINT8']);
    assert.deepEqual(from.quantization, to.quantization, 'the resize keeps the quantization');
    assert.deepEqual(
      [from.shape, to.shape],
      [
        [1, 33, 33, 21],
        [1, 513, 513, 21],
      ],
      'to the input size',
    );
    const loaded = (await catalogs.default.load('deeplab')) as LoadedModel<SegmentState>;
    const descriptor = loaded.descriptor;
    assert.deepEqual([descriptor.input.height, descriptor.input.width], [513, 513]);
    assert.equal((descriptor.segment as { upsample: string }).upsample, 'align_corners');
    assert.deepEqual(descriptor.model.outputs, [SMALL]);
    const up = loaded.state.upsampling;
    assert.ok(up);
    const mode = { alignCorners: true, halfPixelCenters: false };
    assert.deepEqual(up.rows, axisSampling(33, 513, mode));
    assert.deepEqual(up.columns, axisSampling(33, 513, mode));
    assert.throws(() => constants.producerOf('MobilenetV2/MobilenetV2/input'), /no operator computes/);
    assert.match(constants.producerOf('ArgMax').code, /ARG_MAX/);
  });
});

/** Deterministic scores from a few values, so that classes tie often. */
function tiedScores(count: number, seed: number, values: readonly number[]): Uint8Array {
  let state = seed >>> 0;
  return Uint8Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return values[(state >>> 16) % values.length] as number;
  });
}

describe('upsampledArgmax equals the argmax of the whole resize', () => {
  const cases: [string, ResizeMode, [number, number], [number, number]][] = [
    ['align_corners, 9x7 to 129x97', { alignCorners: true, halfPixelCenters: false }, [9, 7], [129, 97]],
    ['half_pixel_centers, 6x11 to 23x40', { alignCorners: false, halfPixelCenters: true }, [6, 11], [23, 40]],
    [
      'half_pixel_centers, down 12x9 to 5x4',
      { alignCorners: false, halfPixelCenters: true },
      [12, 9],
      [5, 4],
    ],
    ['asymmetric, 5x8 to 17x3', { alignCorners: false, halfPixelCenters: false }, [5, 8], [17, 3]],
    ['align_corners, 1x1 to 6x5', { alignCorners: true, halfPixelCenters: false }, [1, 1], [6, 5]],
  ];
  const palettes = [
    [0, 255],
    [100, 101],
    [7, 8, 9],
    [0, 64, 128, 192, 255],
  ];
  for (const [name, mode, [h, w], [outH, outW]] of cases) {
    it(`${name}, scores that tie`, () => {
      for (const channels of [1, 2, 5, 21]) {
        palettes.forEach((values, seed) => {
          const scores = tiedScores(h * w * channels, seed + channels, values);
          const up: Upsampling = {
            sourceHeight: h,
            sourceWidth: w,
            channels,
            rows: axisSampling(h, outH, mode),
            columns: axisSampling(w, outW, mode),
          };
          const full = resizeStored(scores, [1, h, w, channels], [1, outH, outW, channels], mode);
          const what = `${channels} channels, values ${values.join('/')}`;
          assert.deepEqual(differences(upsampledArgmax(scores, up), argmax(full, channels)), [], what);
        });
      }
    });
  }

  it('refuses scores of another size', () => {
    const mode = { alignCorners: true, halfPixelCenters: false };
    const up = {
      sourceHeight: 2,
      sourceWidth: 2,
      channels: 3,
      rows: axisSampling(2, 5, mode),
      columns: axisSampling(2, 5, mode),
    };
    assert.throws(() => upsampledArgmax(new Uint8Array(11), up), RangeError);
  });
});
