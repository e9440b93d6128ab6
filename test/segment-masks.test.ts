/**
 * segment's pure parts: scores to classes, probabilities to classes and alpha, class shares,
 * the class colours and option parsing. The models and photos are in segment.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TfliteFnError } from '../src/errors.js';
import {
  argmaxClasses,
  classShares,
  keptAlpha,
  probabilityBytes,
  softAlpha,
  thresholdClasses,
} from '../src/tasks/segment/masks.js';
import { parseSegmentOptions } from '../src/tasks/segment/options.js';
import { classColour } from '../src/tasks/segment/palette.js';
import { type Upsampling, upsampledArgmax } from '../src/tasks/segment/upsample.js';
import { axisSampling } from '../src/tflite/resize-bilinear.js';

describe('segment masks', () => {
  it('takes the channel with the highest score per pixel, the first on a tie, like ArgMax', () => {
    // Three pixels of three classes: best is 2, then 0 (a tie between 0 and 1), then 1.
    const scores = new Uint8Array([10, 20, 30, 7, 7, 3, 0, 255, 254]);
    assert.deepEqual([...argmaxClasses(scores, 3, 3)], [2, 0, 1]);
    const floats = new Float32Array([-1, -0.5, -2, 0.1, 0.2, 0.3]);
    assert.deepEqual([...argmaxClasses(floats, 2, 3)], [1, 2]);
  });

  it('refuses scores that do not fill the mask', () => {
    assert.throws(() => argmaxClasses(new Uint8Array(8), 3, 3), RangeError);
  });

  it('reads probabilities as bytes, clamped, with NaN as background', () => {
    const bytes = probabilityBytes(new Float32Array([0, 0.5, 1, -3, 7, Number.NaN]));
    assert.deepEqual([...bytes], [0, 128, 255, 0, 255, 0]);
  });

  it('thresholds inclusively: a probability equal to the threshold is foreground', () => {
    const probability = new Uint8Array([0, 127, 128, 255]);
    assert.deepEqual([...thresholdClasses(probability, 0.5)], [0, 0, 1, 1]);
    assert.deepEqual([...thresholdClasses(probability, 0)], [1, 1, 1, 1]);
    assert.deepEqual([...thresholdClasses(probability, 1)], [0, 0, 0, 1]);
  });

  it('ramps the cut-out alpha around the threshold: half at the threshold, none well below, full well above', () => {
    const alpha = softAlpha(new Uint8Array([0, 90, 128, 166, 255]), 0.5);
    assert.deepEqual([alpha[0], alpha[4]], [0, 255]);
    // 128 is the byte nearest to 0.5 (127.5): nearly half transparent.
    assert.ok(Math.abs((alpha[2] as number) - 128) <= 3, `at the threshold: ${alpha[2]}`);
    assert.ok((alpha[1] as number) < 50 && (alpha[3] as number) > 205, `soft edge: ${[...alpha]}`);
    // A higher threshold makes the same probability more transparent.
    assert.ok((softAlpha(new Uint8Array([166]), 0.7)[0] as number) < (alpha[3] as number));
  });

  it('lists the classes present, most pixels first, with their share of the mask', () => {
    const classes = new Uint8Array([0, 0, 0, 2, 2, 1, 1, 0]);
    assert.deepEqual(classShares(classes, ['background', 'cat', 'dog', 'unused']), [
      { index: 0, label: 'background', fraction: 0.5 },
      { index: 1, label: 'cat', fraction: 0.25 },
      { index: 2, label: 'dog', fraction: 0.25 },
    ]);
  });

  it('keeps only the chosen classes in the alpha', () => {
    assert.deepEqual([...keptAlpha(new Uint8Array([0, 15, 12, 15]), new Set([15]))], [0, 255, 0, 255]);
  });
});

describe('segment upsampling (class scores scaled up with aligned corners, then the best class)', () => {
  const aligned = { alignCorners: true, halfPixelCenters: false };
  /** 2x2 source cells of 2 classes to height x width, as DeepLab's resize (align_corners). */
  const upsampling = (height: number, width: number): Upsampling => ({
    sourceHeight: 2,
    sourceWidth: 2,
    channels: 2,
    rows: axisSampling(2, height, aligned),
    columns: axisSampling(2, width, aligned),
  });
  // Class 0 wins on the left column, class 1 on the right.
  const scores = Uint8Array.of(
    // (0,0)  (0,1)
    3,
    0,
    0,
    1,
    // (1,0)  (1,1)
    3,
    0,
    0,
    1,
  );

  it('keeps the source classes at the aligned corners and blends between them', () => {
    const classes = upsampledArgmax(scores, upsampling(3, 5));
    // Along a row class 0 blends to 3(1 - t), class 1 to t, both rounded to whole steps: at
    // t = 0.75 both are 1, a tie the first class takes; class 1 wins only at the right edge.
    const row = [0, 0, 0, 0, 1];
    assert.deepEqual([...classes], [...row, ...row, ...row]);
  });

  it('rounds blends to whole steps, so ties fall to the first class as in ArgMax', () => {
    // Left corners score (2, 2), right corners (2, 3). A quarter of the way across, class 1
    // blends to 2.25: ahead of class 0's 2 before rounding, a tie after it, which the first
    // class takes (as the model's uint8 ResizeBilinear and ArgMax do); at 2.5 it rounds up.
    const classes = upsampledArgmax(Uint8Array.of(2, 2, 2, 3, 2, 2, 2, 3), upsampling(2, 5));
    assert.deepEqual([...classes.subarray(0, 5)], [0, 0, 1, 1, 1]);
  });

  it('is the argmax itself when the sizes are equal', () => {
    assert.deepEqual([...upsampledArgmax(scores, upsampling(2, 2))], [0, 1, 0, 1]);
  });
});

describe('segment class colours', () => {
  it('are the PASCAL VOC colour map', () => {
    assert.deepEqual(classColour(0), [0, 0, 0]);
    assert.deepEqual(classColour(1), [128, 0, 0]);
    assert.deepEqual(classColour(12), [64, 0, 128]); // dog
    assert.deepEqual(classColour(15), [192, 128, 128]); // person
    assert.deepEqual(classColour(20), [0, 64, 128]); // tvmonitor
  });
});

describe('segment options', () => {
  it('reads a threshold from a string or a number, and class names from a list or commas', () => {
    assert.deepEqual(parseSegmentOptions({ threshold: '0.25', keep: 'person, dog,person' }), {
      threshold: 0.25,
      keep: ['person', 'dog'],
    });
    assert.deepEqual(parseSegmentOptions({ threshold: 1, keep: ['cat'] }), { threshold: 1, keep: ['cat'] });
    assert.deepEqual(parseSegmentOptions({}), { threshold: undefined, keep: undefined });
  });

  for (const threshold of ['-0.1', '1.5', 'abc', 'NaN', 'Infinity', true, [0.5]]) {
    it(`refuses threshold ${JSON.stringify(threshold)} with 400 bad_option`, () => {
      assert.throws(
        () => parseSegmentOptions({ threshold }),
        (error: unknown) =>
          error instanceof TfliteFnError &&
          error.status === 400 &&
          error.code === 'bad_option' &&
          /threshold/.test(error.message),
      );
    });
  }

  for (const keep of [',', 42, [1, 2], { person: true }, 'x'.repeat(65), Array(257).fill('dog')]) {
    it(`refuses keep ${JSON.stringify(keep).slice(0, 40)} with 400 bad_option`, () => {
      assert.throws(
        () => parseSegmentOptions({ keep }),
        (error: unknown) =>
          error instanceof TfliteFnError && error.status === 400 && error.code === 'bad_option',
      );
    });
  }
});
