/**
 * The SSD post-processing (TFLite_Detection_PostProcess in TypeScript) on small hand-made
 * tensors whose answers are worked out by hand here. The real model's results are compared
 * with TFLite's own operator in objects.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMax, parseObjectsOptions, parseThreshold } from '../src/tasks/objects/options.js';
import {
  decodeBoxes,
  type PostProcessSettings,
  postProcess,
  type RawDetection,
} from '../src/tasks/objects/post-process.js';
import { toObjects } from '../src/tasks/objects/result.js';

const SCALES = { y: 10, x: 10, h: 5, w: 5 };

function settings(anchors: number[][], overrides: Partial<PostProcessSettings> = {}): PostProcessSettings {
  return {
    anchors: Float32Array.from(anchors.flat()),
    scales: SCALES,
    numClasses: 2,
    maxDetections: 10,
    maxClassesPerDetection: 1,
    detectionsPerClass: 100,
    useRegularNms: false,
    scoreThreshold: 1e-8, // as the SSD model: anything but a zero score
    iouThreshold: 0.5,
    ...overrides,
  };
}

/** Encodings that decode to each anchor itself: zero offset, zero log-size. */
function identity(count: number): Float32Array {
  return new Float32Array(count * 4);
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);
}

function corners(d: RawDetection): number[] {
  return [d.ymin, d.xmin, d.ymax, d.xmax];
}

describe('objects post-processing: decoding', () => {
  it('decodes a centre-size encoding against its anchor with the y/x/h/w scales', () => {
    // Anchor centre (0.5, 0.5), 0.2 high, 0.4 wide; scales differ so a swap would show.
    // Encoding: y +1, x -2, h 4 ln 2, w 0.
    //   y centre = 1 / 10 * 0.2 + 0.5 = 0.52; x centre = -2 / 5 * 0.4 + 0.5 = 0.34
    //   height = exp(4 ln 2 / 4) * 0.2 = 0.4; width = exp(0 / 2) * 0.4 = 0.4
    const boxes = decodeBoxes(Float32Array.of(1, -2, 4 * Math.LN2, 0), 4, {
      anchors: Float32Array.of(0.5, 0.5, 0.2, 0.4),
      scales: { y: 10, x: 5, h: 4, w: 2 },
    });
    for (const [i, expected] of [0.32, 0.14, 0.72, 0.54].entries()) {
      close(boxes[i] as number, expected, `corner ${i}`);
    }
  });

  it('steps over extra coordinates per box (keypoints) by the encoding stride', () => {
    const encodings = Float32Array.of(0, 0, 0, 0, 9, 9, 10, 0, 0, 0, 9, 9);
    const boxes = decodeBoxes(encodings, 6, {
      anchors: Float32Array.of(0.5, 0.5, 0.2, 0.2, 0.5, 0.5, 0.2, 0.2),
      scales: SCALES,
    });
    close(boxes[0] as number, 0.4, 'first box untouched by its keypoints');
    close(boxes[4] as number, 0.4 + 0.2, 'second box moved down by its own y (10 / 10 * 0.2)');
  });
});

describe('objects post-processing: NMS', () => {
  // Anchors 0 and 1 overlap with IoU exactly 0.6 (same rows; widths 0.5 offset by 0.125:
  // 0.375 / 0.625, all binary fractions); anchor 2 is elsewhere.
  const anchors = [
    [0.25, 0.25, 0.25, 0.5],
    [0.25, 0.375, 0.25, 0.5],
    [0.75, 0.75, 0.2, 0.2],
  ];
  // Columns: background, class 0, class 1.
  const scores = Float32Array.of(0.99, 0.9, 0.1, 0.99, 0.2, 0.8, 0.99, 0.7, 0.05);

  it('fast NMS: ranks anchors by their best class, skips the background column, suppresses above the IoU', () => {
    const found = postProcess(identity(3), scores, settings(anchors), { minScore: 0, maxDetections: 10 });
    // Anchor 1's best (class 1, 0.8) overlaps anchor 0 (0.9) by 0.6 > 0.5: suppressed.
    assert.deepEqual(
      found.map((d) => [d.classIndex, d.score]),
      [
        [0, Math.fround(0.9)],
        [0, Math.fround(0.7)],
      ],
    );
    assert.deepEqual(
      corners(found[0] as RawDetection).map((v) => Math.round(v * 1e6) / 1e6),
      [0.125, 0, 0.375, 0.5],
    );
  });

  it('an IoU equal to the threshold does not suppress (strictly above only, as TFLite)', () => {
    const found = postProcess(identity(3), scores, settings(anchors, { iouThreshold: 0.6 }), {
      minScore: 0,
      maxDetections: 10,
    });
    assert.equal(found.length, 3);
  });

  it('regular NMS: one NMS per class, so overlapping boxes of different classes both stay', () => {
    const found = postProcess(identity(3), scores, settings(anchors, { useRegularNms: true }), {
      minScore: 0.5,
      maxDetections: 10,
    });
    assert.deepEqual(
      found.map((d) => [d.classIndex, d.score]),
      [
        [0, Math.fround(0.9)],
        [1, Math.fround(0.8)],
        [0, Math.fround(0.7)],
      ],
    );
  });

  it('regular NMS keeps at most detections_per_class per class', () => {
    const far = [
      [0.1, 0.1, 0.1, 0.1],
      [0.5, 0.5, 0.1, 0.1],
      [0.9, 0.9, 0.1, 0.1],
    ];
    const allClassZero = Float32Array.of(0, 0.9, 0, 0, 0.8, 0, 0, 0.7, 0);
    const found = postProcess(
      identity(3),
      allClassZero,
      settings(far, { useRegularNms: true, detectionsPerClass: 2 }),
      {
        minScore: 0,
        maxDetections: 10,
      },
    );
    assert.deepEqual(
      found.map((d) => d.score),
      [Math.fround(0.9), Math.fround(0.8)],
    );
  });

  it('several classes per detection: each kept box reports its best classes, best first overall', () => {
    const found = postProcess(identity(3), scores, settings(anchors, { maxClassesPerDetection: 2 }), {
      minScore: 0,
      maxDetections: 10,
    });
    assert.deepEqual(
      found.map((d) => [d.classIndex, d.score]),
      [
        [0, Math.fround(0.9)],
        [0, Math.fround(0.7)],
        [1, Math.fround(0.1)],
        [1, Math.fround(0.05)],
      ],
    );
  });

  it("the caller's threshold and count apply after NMS, and the model's threshold still holds", () => {
    const request = { minScore: 0.75, maxDetections: 10 };
    assert.equal(postProcess(identity(3), scores, settings(anchors), request).length, 1);
    assert.equal(
      postProcess(identity(3), scores, settings(anchors), { minScore: 0, maxDetections: 1 }).length,
      1,
    );
    const strictModel = settings(anchors, { scoreThreshold: 0.95 });
    assert.equal(postProcess(identity(3), scores, strictModel, { minScore: 0, maxDetections: 10 }).length, 0);
  });

  it('equal scores keep anchor order (a stable sort, as TFLite)', () => {
    const far = [
      [0.1, 0.1, 0.1, 0.1],
      [0.5, 0.5, 0.1, 0.1],
    ];
    const tied = Float32Array.of(0, 0.5, 0, 0, 0.5, 0);
    const found = postProcess(identity(2), tied, settings(far), { minScore: 0, maxDetections: 10 });
    assert.deepEqual(
      found.map((d) => Math.round(d.ymin * 100) / 100),
      [0.05, 0.45],
    );
  });

  it('a box with no area overlaps nothing and suppresses nothing', () => {
    const flat = [
      [0.5, 0.5, 0, 0.4],
      [0.5, 0.5, 0.2, 0.4],
    ];
    const both = Float32Array.of(0, 0.9, 0, 0, 0.8, 0);
    assert.equal(
      postProcess(identity(2), both, settings(flat), { minScore: 0, maxDetections: 10 }).length,
      2,
    );
  });
});

describe('objects result', () => {
  it('boxes become upright-photo pixels, clipped to the photo, rounded to 0.1; scores to 4 decimals', () => {
    const [object] = toObjects(
      [{ ymin: -0.1, xmin: 0.25, ymax: 0.5, xmax: 1.2, classIndex: 1, score: 0.123456 }],
      ['person', 'bicycle'],
      { width: 640, height: 480 },
    );
    assert.deepEqual(object, {
      label: 'bicycle',
      class: 1,
      score: 0.1235,
      box: { x: 160, y: 0, width: 480, height: 240 },
    });
  });
});

describe('objects options', () => {
  it('threshold: 0 to 1 as a number or a plain decimal string; absent means the model default', () => {
    assert.equal(parseThreshold('0.25'), 0.25);
    assert.equal(parseThreshold(1), 1);
    assert.equal(parseThreshold('.5'), 0.5);
    assert.equal(parseThreshold(undefined), undefined);
    assert.equal(parseThreshold(''), undefined);
    for (const bad of [
      '1.5',
      '-0.1',
      'abc',
      '0x1',
      '1e-1',
      ' 0.5',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      true,
      {},
    ]) {
      assert.throws(
        () => parseThreshold(bad),
        (error: { status?: number; code?: string; message?: string }) =>
          error.status === 400 && error.code === 'bad_option' && /threshold/.test(error.message ?? ''),
        `threshold ${String(bad)}`,
      );
    }
  });

  it('max: a whole number from 1 to 100', () => {
    assert.equal(parseMax('3'), 3);
    assert.equal(parseMax(100), 100);
    for (const bad of ['0', 0, '101', '2.5', '-1', 'ten']) {
      assert.throws(
        () => parseMax(bad),
        (error: { status?: number; code?: string; message?: string }) =>
          error.status === 400 && error.code === 'bad_option' && /max must be/.test(error.message ?? ''),
        `max ${String(bad)}`,
      );
    }
    assert.deepEqual(parseObjectsOptions({ threshold: '0.3', max: '5', other: 'ignored' }), {
      threshold: 0.3,
      max: 5,
    });
  });
});
