/**
 * The objects task's model side, on the real SSD model: what is read from the file (the
 * post-processing operator's options and anchors), refusals of models whose options are
 * missing or garbled, and the whole post-processing compared with TensorFlow Lite's own
 * TFLite_Detection_PostProcess (test/fixtures/ssd-tflite-reference.json says how that
 * reference was made) and with one box decoded by hand from the raw tensors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encode as encodeFlexBuffer, toObject } from 'flatbuffers/mjs/flexbuffers.js';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import type { CompiledModel, TensorData } from '../src/engine/types.js';
import { ModelLoadError } from '../src/errors.js';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb } from '../src/image/to-tensor.js';
import type { ModelDescriptor } from '../src/model/descriptor.js';
import { packageRoot } from '../src/store/paths.js';
import { type ObjectsState, prepareObjects } from '../src/tasks/objects/check.js';
import { readSsdModel } from '../src/tasks/objects/model-settings.js';
import { postProcess, type RawDetection } from '../src/tasks/objects/post-process.js';
import type { ModelParts } from '../src/tasks/task.js';
import { cutGraph } from '../src/tflite/cut.js';
import { readTfliteModel } from '../src/tflite/read.js';
import { photo, SHARED_MODELS } from './helpers.js';

const SSD = 'ssd_mobilenet_v1_coco_quant_detect.tflite';
const CUT_AT = ['Squeeze', 'convert_scores'];

interface ReferenceDetection {
  readonly class: number;
  readonly score: number;
  readonly box: readonly [number, number, number, number];
}
interface Reference {
  readonly regularOptions: Record<string, number | boolean>;
  readonly photos: Record<
    string,
    { rgbSha256: string; fast: ReferenceDetection[]; regular: ReferenceDetection[] }
  >;
}

const REFERENCE = JSON.parse(
  readFileSync(join(packageRoot(), 'test', 'fixtures', 'ssd-tflite-reference.json'), 'utf8'),
) as Reference;

function ssdBytes(): Uint8Array {
  return new Uint8Array(readFileSync(join(SHARED_MODELS, SSD)));
}

function labels(): string[] {
  return readFileSync(join(SHARED_MODELS, 'coco_labels.txt'), 'utf8').trimEnd().split('\n');
}

/** SSD's post-processing options as stored: the operator's FlexBuffer bytes. */
function optionBytes(bytes: Uint8Array): Uint8Array {
  const operators = readTfliteModel(bytes, SSD).subgraphs[0]?.operators ?? [];
  const options = operators.at(-1)?.customOptions;
  assert.ok(options, 'the last operator has custom options');
  return options;
}

/** Where the option bytes start in the file, and where the operator's offset to them is stored. */
function locateOptions(bytes: Uint8Array): { start: number; offsetAt: number } {
  const options = optionBytes(bytes);
  const start = Buffer.from(bytes).indexOf(Buffer.from(options));
  assert.ok(start > 0 && Buffer.from(bytes).indexOf(Buffer.from(options), start + 1) < 0, 'found once');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  // A uoffset to the vector (its length prefix at start - 4) is stored 4-aligned before it.
  for (let at = 0; at < start - 4; at += 4) if (at + view.getUint32(at, true) === start - 4) offsets.push(at);
  assert.equal(offsets.length, 1, 'one offset points at the options');
  return { start, offsetAt: offsets[0] as number };
}

/** A copy of SSD whose post-processing options are `options`, appended as a new FlexBuffer. */
function withOptions(bytes: Uint8Array, options: Uint8Array): Uint8Array {
  const { offsetAt } = locateOptions(bytes);
  const start = Math.ceil(bytes.length / 4) * 4;
  const out = new Uint8Array(start + 4 + options.length);
  out.set(bytes);
  const view = new DataView(out.buffer);
  view.setUint32(start, options.length, true);
  out.set(options, start + 4);
  view.setUint32(offsetAt, start - offsetAt, true);
  return out;
}

/** The options as a plain object, with changes: re-encoded as a FlexBuffer map. */
function optionsWith(bytes: Uint8Array, changes: Record<string, unknown>, drop: string[] = []): Uint8Array {
  const current = Object.fromEntries([...readSsdOptionEntries(bytes)].filter(([key]) => !drop.includes(key)));
  return encodeFlexBuffer({ ...current, ...changes });
}

function readSsdOptionEntries(bytes: Uint8Array): Map<string, unknown> {
  // The FlexBuffer runtime of the `flatbuffers` package, independent of src/tflite's reader.
  return new Map(Object.entries(flexToObject(optionBytes(bytes))));
}

function flexToObject(bytes: Uint8Array): Record<string, unknown> {
  return toObject(new Uint8Array(bytes).buffer) as Record<string, unknown>;
}

function rejectsWith(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => readSsdModel(bytes, 'model'),
    (error: unknown) =>
      error instanceof ModelLoadError && error.status === 500 && pattern.test(error.message),
  );
}

describe('objects: what is read from the SSD model', () => {
  it("reads TFLite_Detection_PostProcess's settings, inputs and anchors from the file", () => {
    const facts = readSsdModel(ssdBytes(), SSD);
    const { anchors, ...settings } = facts.settings;
    assert.deepEqual(
      { ...settings, iouThreshold: Math.round(settings.iouThreshold * 1e6) / 1e6 },
      {
        scales: { y: 10, x: 10, h: 5, w: 5 },
        numClasses: 90,
        maxDetections: 10,
        maxClassesPerDetection: 1,
        // Absent from this file: TFLite's kernel defaults.
        detectionsPerClass: 100,
        useRegularNms: false,
        scoreThreshold: Math.fround(1e-8),
        iouThreshold: 0.6,
      },
    );
    assert.equal(anchors.length, 1917 * 4);
    assert.deepEqual(
      [facts.boxes.name, facts.boxes.shape, facts.scores.name, facts.scores.shape],
      ['Squeeze', [1, 1917, 4], 'convert_scores', [1, 1917, 91]],
    );
    assert.deepEqual(facts.scores.quantization, { scale: 1 / 256, zeroPoint: 0 });
  });

  it('reads use_regular_nms, detections_per_class and changed counts when a model has them', () => {
    const bytes = ssdBytes();
    const patched = withOptions(bytes, optionsWith(bytes, REFERENCE.regularOptions));
    const { settings } = readSsdModel(patched, 'patched');
    assert.deepEqual(
      [settings.useRegularNms, settings.maxDetections, settings.detectionsPerClass],
      [true, 20, 5],
    );
    // SSD's own scales pair up (10, 10, 5, 5): distinct ones show each is read from its key.
    const scales = { y_scale: 1.5, x_scale: 2.5, h_scale: 3.5, w_scale: 4.5 };
    const rescaled = readSsdModel(withOptions(bytes, optionsWith(bytes, scales)), 'rescaled');
    assert.deepEqual(rescaled.settings.scales, { y: 1.5, x: 2.5, h: 3.5, w: 4.5 });
  });

  it('refuses, naming the value, a model whose post-processing options are missing or garbled', () => {
    const bytes = ssdBytes();
    rejectsWith(withOptions(bytes, optionsWith(bytes, {}, ['y_scale'])), /PostProcess.*have no 'y_scale'/);
    rejectsWith(withOptions(bytes, optionsWith(bytes, { h_scale: 0 })), /'h_scale' is 0; it must be above 0/);
    rejectsWith(withOptions(bytes, optionsWith(bytes, { nms_iou_threshold: 1.5 })), /nms_iou_threshold/);
    rejectsWith(withOptions(bytes, optionsWith(bytes, { num_classes: 0 })), /'num_classes' is 0/);
    rejectsWith(withOptions(bytes, optionsWith(bytes, { max_detections: 'ten' })), /'max_detections'/);
    rejectsWith(
      withOptions(bytes, optionsWith(bytes, { num_classes: 200 })),
      /class scores .* expected \[1, 1917, 200/,
    );
    // Bytes that are no FlexBuffer at all, in place (same length, so the file stays valid).
    const garbled = bytes.slice();
    const { start } = locateOptions(bytes);
    garbled.fill(0xff, start, start + optionBytes(bytes).length);
    rejectsWith(garbled, /options of TFLite_Detection_PostProcess .* cannot be read/);
  });

  it('refuses a model without the post-processing operator', () => {
    const classifier = new Uint8Array(
      readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite')),
    );
    rejectsWith(classifier, /has no TFLite_Detection_PostProcess operator/);
  });
});

describe('objects: post-processing the real model, compared with TensorFlow Lite', () => {
  let engine: LiteRtCompiledModelAdapter;
  let state: ObjectsState;

  function parts(bytes: Uint8Array, labelLines: string[] = labels()): ModelParts {
    return {
      descriptor: { id: 'objects' } as ModelDescriptor,
      engine,
      labels: labelLines,
      tflite: async () => bytes,
    };
  }

  before(async () => {
    engine = await LiteRtCompiledModelAdapter.compile(cutGraph(ssdBytes(), CUT_AT, SSD), SSD);
    state = await prepareObjects(parts(ssdBytes()));
  });
  after(() => engine.dispose());

  async function modelInput(name: string): Promise<Uint8Array> {
    return resizeToRgb(await openImage(photo(name)), 300, 300, 'fill');
  }

  async function rawOutputs(rgb: Uint8Array): Promise<{ boxes: TensorData; scores: TensorData }> {
    const outputs = await engine.run([rgb]);
    return {
      boxes: outputs[state.boxes.index] as TensorData,
      scores: outputs[state.scores.index] as TensorData,
    };
  }

  /**
   * Same detections as TFLite: class, score and box (to float32 rounding). Equal scores may
   * come in another order (TFLite's regular NMS uses std::partial_sort, which is not stable):
   * within a run of equal scores the order is free, and at the cut-off score any of the tied.
   */
  function assertSameAsTflite(
    found: readonly RawDetection[],
    reference: readonly ReferenceDetection[],
  ): void {
    assert.equal(found.length, reference.length);
    assert.deepEqual(
      found.map((d) => d.score),
      reference.map((r) => r.score),
      'the same scores in the same order',
    );
    const key = (classIndex: number, box: readonly number[]) =>
      `${classIndex} ${box.map((v) => v.toFixed(5)).join(' ')}`;
    const lastScore = reference.at(-1)?.score;
    const mine = found.filter((d) => d.score !== lastScore).map((d) => key(d.classIndex, corners(d)));
    const theirs = reference.filter((r) => r.score !== lastScore).map((r) => key(r.class, r.box));
    assert.deepEqual(mine.sort(), theirs.sort(), 'the same boxes and classes above the last score');
    for (const [i, d] of found.entries()) {
      const r = reference[i] as ReferenceDetection;
      if (d.classIndex === r.class && d.score === r.score) {
        for (const [k, value] of corners(d).entries()) {
          assert.ok(Math.abs(value - (r.box[k] as number)) < 1e-6, `detection ${i} corner ${k}`);
        }
      }
    }
  }

  function corners(d: RawDetection): number[] {
    return [d.ymin, d.xmin, d.ymax, d.xmax];
  }

  for (const name of Object.keys(REFERENCE.photos)) {
    it(`${name}: the same detections as TFLite, fast NMS (the model's own) and regular NMS`, async () => {
      const expected = REFERENCE.photos[name];
      assert.ok(expected);
      const rgb = await modelInput(name);
      // The reference was made from these very pixels; another sharp build may resize a
      // little differently, and then the comparison would test the resize, not the decoding.
      const sha = createHash('sha256').update(rgb).digest('hex');
      assert.equal(sha, expected.rgbSha256, 'the model input is the one the reference was made from');
      const raw = await rawOutputs(rgb);
      const boxes = state.boxes.read(raw.boxes);
      const scores = state.scores.read(raw.scores);
      const model = state.settings;
      const all = { minScore: 0, maxDetections: model.maxDetections };
      assertSameAsTflite(postProcess(boxes, scores, model, all), expected.fast);

      const bytes = ssdBytes();
      const regular = readSsdModel(
        withOptions(bytes, optionsWith(bytes, REFERENCE.regularOptions)),
        'regular',
      );
      const request = { minScore: 0, maxDetections: regular.settings.maxDetections };
      assertSameAsTflite(postProcess(boxes, scores, regular.settings, request), expected.regular);
    });
  }

  it("pets.jpg: the best box, decoded by hand from the raw uint8 tensors, is the task's first dog", async () => {
    const raw = await rawOutputs(await modelInput('pets.jpg'));
    const scores = raw.scores as Uint8Array;
    const boxes = raw.boxes as Uint8Array;
    // The anchor with the highest raw score of any class but the background (column 0).
    let best = { anchor: -1, column: -1, stored: -1 };
    for (let anchor = 0; anchor < 1917; anchor++) {
      for (let column = 1; column < 91; column++) {
        const stored = scores[anchor * 91 + column] as number;
        if (stored > best.stored) best = { anchor, column, stored };
      }
    }
    // Quantization and anchors straight from the file, through the schema reader only.
    const model = readTfliteModel(ssdBytes(), SSD);
    const graph = model.subgraphs[0];
    assert.ok(graph);
    const tensor = (name: string) => graph.tensors.find((t) => t.name === name);
    const boxQ = tensor('Squeeze')?.quantization;
    const anchorTensor = tensor('anchors');
    const anchorQ = anchorTensor?.quantization;
    const anchorBytes = model.buffers[anchorTensor?.buffer ?? 0]?.data;
    assert.ok(boxQ && anchorQ && anchorBytes);
    const real = (stored: number, q: typeof boxQ) =>
      (stored - (q.zeroPoint[0] as number)) * (q.scale[0] as number);
    const e = [0, 1, 2, 3].map((k) => real(boxes[best.anchor * 4 + k] as number, boxQ));
    const a = [0, 1, 2, 3].map((k) => real(anchorBytes[best.anchor * 4 + k] as number, anchorQ));
    const [ey, ex, eh, ew] = e as [number, number, number, number];
    const [ay, ax, ah, aw] = a as [number, number, number, number];
    const yCentre = (ey / 10) * ah + ay;
    const xCentre = (ex / 10) * aw + ax;
    const height = Math.exp(eh / 5) * ah;
    const width = Math.exp(ew / 5) * aw;
    // pets.jpg is 512x430; the photo was stretched to the input, so x scales by 512, y by 430.
    const byHand = {
      x: (xCentre - width / 2) * 512,
      y: (yCentre - height / 2) * 430,
      width: width * 512,
      height: height * 430,
    };
    assert.equal(labels()[best.column - 1], 'dog');
    assert.equal(best.stored / 256, 0.75);
    const [first] = postProcess(state.boxes.read(raw.boxes), state.scores.read(raw.scores), state.settings, {
      minScore: 0.5,
      maxDetections: 10,
    });
    assert.ok(first);
    assert.equal(first.classIndex, best.column - 1);
    assert.equal(first.score, 0.75);
    const task = {
      x: first.xmin * 512,
      y: first.ymin * 430,
      width: (first.xmax - first.xmin) * 512,
      height: (first.ymax - first.ymin) * 430,
    };
    for (const key of ['x', 'y', 'width', 'height'] as const) {
      assert.ok(Math.abs(task[key] - byHand[key]) < 0.01, `${key}: ${task[key]} vs ${byHand[key]} by hand`);
    }
  });

  it('refuses a labels file shorter than the class count, and an engine not cut at the operator inputs', async () => {
    await assert.rejects(
      async () => prepareObjects(parts(ssdBytes(), labels().slice(0, 80))),
      (error: unknown) =>
        error instanceof ModelLoadError && /90 classes but its labels file has 80/.test(error.message),
    );
    // The engine of a model cut elsewhere (here: the same tensors under other names).
    const cutElsewhere: CompiledModel = {
      inputs: engine.inputs,
      outputs: engine.outputs.map((output) => ({ ...output, name: `${output.name}_elsewhere` })),
      run: (inputs) => engine.run(inputs),
      dispose: () => undefined,
    };
    await assert.rejects(
      async () => prepareObjects({ ...parts(ssdBytes()), engine: cutElsewhere }),
      (error: unknown) =>
        error instanceof ModelLoadError &&
        /no output 'Squeeze'.*model\.outputs in the descriptor/.test(error.message),
    );
  });
});
