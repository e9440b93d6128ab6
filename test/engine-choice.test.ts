/**
 * Which engine runs a model, and that the native one answers like the reference: `auto` takes
 * onnxruntime only for a conversion that passed verification, and falls back to LiteRT,
 * saying why, for everything else.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listImagenetSample } from '../bench/imagenet-sample.js';
import { CONVERTER_VERSION } from '../src/convert/convert.js';
import { convertAndVerify, sha256Of } from '../src/convert/prepare.js';
import {
  type ConversionReport,
  convertedDir,
  readOnnx,
  readReport,
  type VerificationSummary,
  writeConverted,
} from '../src/convert/store.js';
import type { OrtCompiledModel } from '../src/engine/ort-model.js';
import { compileWithEngine, parseEngineSetting, plannedEngine } from '../src/engine/select.js';
import type { TensorData } from '../src/engine/types.js';
import { ModelLoadError, TfliteFnError } from '../src/errors.js';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb, rgbToTensor } from '../src/image/to-tensor.js';
import { classify, ModelCatalog } from '../src/index.js';
import type { ModelDescriptor } from '../src/model/descriptor.js';
import { pinnedServedKey } from '../src/model/served-model.js';
import { taskById } from '../src/tasks/index.js';
import { exactInt8Paths, type Int8KernelPath } from '../src/util/cpu.js';
import { photo, SHARED_MODELS } from './helpers.js';
import { buildTflite, FLOAT32, UINT8 } from './tflite-builder.js';

const NOT_CONVERTED = '0'.repeat(64); // a sha256 no model has

function argmax(values: TensorData): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

describe('engine choice', () => {
  it('parses --engine / TFLITE_FN_ENGINE and refuses anything else', () => {
    assert.equal(parseEngineSetting(undefined), 'auto');
    assert.equal(parseEngineSetting('ort'), 'ort');
    assert.throws(
      () => parseEngineSetting('gpu'),
      (error: unknown) => {
        return (
          error instanceof TfliteFnError && error.status === 400 && /auto, litert, ort/.test(error.message)
        );
      },
    );
  });

  it('auto runs the built-in models on ort because set-up verified their conversions', () => {
    const catalog = new ModelCatalog({ warmUp: false, engine: 'auto' });
    for (const entry of catalog.entries()) {
      const plan = catalog.plannedEngine(entry.id);
      assert.equal(plan.engine, 'ort', `${entry.id}: ${plan.reason}`);
      const descriptor = entry.descriptor as ModelDescriptor;
      const report = readReport(pinnedServedKey(descriptor.model) as string);
      assert.ok(report?.ok && report.verification, entry.id);
      // Tasks with a scores output are checked on top-1 too; the others by value only.
      assert.equal(
        report.verification.top1Agreement,
        taskById(descriptor.task).scoresOutput ? report.verification.photos : undefined,
        entry.id,
      );
      assert.ok(report.verification.photos >= 2);
    }
  });

  it('converts and verifies a model read from disk (a Node Buffer, as set-up reads it)', async () => {
    const catalog = new ModelCatalog({ warmUp: false });
    const entry = catalog.entry('imagenet-small');
    const tflite = readFileSync(catalog.locate(entry, entry.descriptor.model).path);
    const report = await convertAndVerify(entry.descriptor, tflite, { force: true });
    assert.equal(report.ok, true, report.message);
    assert.equal(report.verification?.photos, 20);
  });

  it('auto falls back to litert for a model with no conversion, and says why; ort refuses it', async () => {
    assert.match(plannedEngine(NOT_CONVERTED, 'auto').reason, /not converted yet/);
    const bytes = readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'));
    const choice = await compileWithEngine(bytes, NOT_CONVERTED, 'a test model', 'auto');
    assert.equal(choice.engine, 'litert');
    choice.model.dispose();
    await assert.rejects(compileWithEngine(bytes, NOT_CONVERTED, 'a test model', 'ort'), (error: unknown) => {
      return error instanceof ModelLoadError && /engine ort was asked for a test model/.test(error.message);
    });
  });

  it('auto falls back to litert when the .onnx file of a verified conversion has gone missing', async () => {
    const sha256 = '1'.repeat(64);
    const report = {
      ...(readReport(
        new ModelCatalog({ warmUp: false }).entry('imagenet-small').descriptor.model.sha256 as string,
      ) as ConversionReport),
      tfliteSha256: sha256,
    };
    writeConverted(report, undefined); // the report vouches for a file that is not there
    try {
      const bytes = readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'));
      const choice = await compileWithEngine(bytes, sha256, 'a test model', 'auto');
      assert.equal(choice.engine, 'litert');
      assert.match(choice.reason, /onnxruntime failed \(the converted a test model is missing/);
      choice.model.dispose();
    } finally {
      rmSync(join(convertedDir(), `${sha256}-c${report.converterVersion}.json`), { force: true });
    }
  });

  it('takes a conversion verified only on the int8 path of CPUs without VNNI on that path; one verified on other kernels falls back to litert, saying why', async () => {
    const verified = readReport(
      new ModelCatalog({ warmUp: false }).entry('imagenet-small').descriptor.model.sha256 as string,
    ) as ConversionReport;
    const bytes = readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'));
    const x86 = exactInt8Paths().includes('x86-u8u8');
    // Every x86 CPU computes the u8 x u8 path exactly; no x86 CPU runs the arm64 one.
    const runnable: Int8KernelPath = x86 ? 'x86-u8u8' : 'native';
    const foreign: Int8KernelPath = x86 ? 'native' : 'x86-vnni';
    const written: string[] = [];
    const withPaths = (sha256: string, int8Paths: Int8KernelPath[]) => {
      const report = { ...verified, tfliteSha256: sha256 };
      writeConverted(
        { ...report, verification: { ...(verified.verification as VerificationSummary), int8Paths } },
        readOnnx(verified.tfliteSha256),
      );
      written.push(join(convertedDir(), `${sha256}-c${report.converterVersion}`));
    };
    try {
      withPaths('2'.repeat(64), [runnable]);
      const choice = await compileWithEngine(bytes, '2'.repeat(64), 'a test model', 'auto');
      assert.equal(choice.engine, 'ort');
      assert.equal(choice.int8Path, runnable);
      assert.equal((choice.model as OrtCompiledModel).int8Path, runnable);
      choice.model.dispose();

      withPaths('3'.repeat(64), [foreign]);
      const plan = plannedEngine('3'.repeat(64), 'auto');
      assert.equal(plan.engine, 'litert');
      assert.match(
        plan.reason,
        new RegExp(
          `^no conversion verified on this CPU's int8 kernels \\(verified on ${foreign}; this CPU computes`,
        ),
      );
      const fallback = await compileWithEngine(bytes, '3'.repeat(64), 'a test model', 'auto');
      assert.equal(fallback.engine, 'litert');
      fallback.model.dispose();
      await assert.rejects(
        compileWithEngine(bytes, '3'.repeat(64), 'a test model', 'ort'),
        (error: unknown) => {
          return (
            error instanceof ModelLoadError &&
            /a test model, but it has no conversion verified on this CPU's int8 kernels/.test(error.message)
          );
        },
      );
    } finally {
      for (const base of written)
        for (const ext of ['.json', '.onnx']) rmSync(`${base}${ext}`, { force: true });
    }
  });

  it('set-up removes what older converter versions wrote for a model (bundles take the whole folder), not newer ones (the cache is per user: another project may run a newer tflite-fn)', async () => {
    const catalog = new ModelCatalog({ warmUp: false });
    const entry = catalog.entry('imagenet-small');
    const sha256 = entry.descriptor.model.sha256 as string;
    const written = (version: number) =>
      ['.onnx', '.json'].map((ext) => join(convertedDir(), `${sha256}-c${version}${ext}`));
    const stale = written(CONVERTER_VERSION - 1);
    const newer = written(CONVERTER_VERSION + 1);
    for (const path of [...stale, ...newer]) writeFileSync(path, 'another version');
    const unrelated = join(convertedDir(), `${'4'.repeat(64)}-c${CONVERTER_VERSION - 1}.json`);
    writeFileSync(unrelated, 'another model');
    try {
      const report = await convertAndVerify(
        entry.descriptor,
        readFileSync(catalog.locate(entry, entry.descriptor.model).path),
      );
      assert.equal(report.ok, true);
      for (const path of stale) assert.equal(existsSync(path), false, path);
      for (const path of newer) assert.equal(existsSync(path), true, path);
      assert.ok(readReport(sha256)?.ok, 'the current version stays');
      assert.equal(existsSync(unrelated), true, 'other models are left alone');
    } finally {
      for (const path of [...stale, ...newer, unrelated]) rmSync(path, { force: true });
    }
  });

  it('a model with an op the converter lacks stays on litert, and the report names the op', async () => {
    // CAST to float, then SIN, which the converter does not cover; LiteRT runs it.
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-unsupported-'));
    writeFileSync(join(dir, 'sine.tflite'), sineModel());
    writeFileSync(join(dir, 'labels.txt'), 'nose\n');
    writeFileSync(
      join(dir, 'sine.yaml'),
      'id: sine\ntask: classify\nmodel:\n  file: sine.tflite\ninput:\n  width: 4\n  height: 4\n  format: rgb8\noutput:\n  labels:\n    file: labels.txt\n',
    );
    const catalog = new ModelCatalog({ warmUp: false, dirs: [dir], engine: 'auto' });
    const tflite = readFileSync(join(dir, 'sine.tflite'));
    const report = await convertAndVerify(catalog.entry('sine').descriptor, tflite, { force: true });
    assert.equal(report.ok, false);
    assert.equal(report.failedAt, 'convert');
    assert.match(report.message, /unsupported TFLite op SIN \(operator 1 of subgraph 0\)/);
    const plan = plannedEngine(sha256Of(tflite), 'auto');
    assert.equal(plan.engine, 'litert');
    assert.match(plan.reason, /no verified ONNX conversion \(.*unsupported TFLite op SIN/);
    const choice = await compileWithEngine(tflite, sha256Of(tflite), 'sine', 'auto');
    assert.equal(choice.engine, 'litert', 'and it runs there');
    const [sines] = await choice.model.run([Uint8Array.of(0, 1, 2, ...new Array<number>(45).fill(0))]);
    const expected = [0, Math.sin(1), Math.sin(2)];
    for (const [i, sine] of expected.entries())
      assert.ok(Math.abs((sines?.[i] ?? Number.NaN) - sine) < 1e-5, `sin(${i})`);
    choice.model.dispose();
  });

  it('ort and litert give the same answer for grace_hopper.jpg with every built-in classifier', async () => {
    const ort = new ModelCatalog({ warmUp: false, engine: 'ort' });
    const litert = new ModelCatalog({ warmUp: false, engine: 'litert' });
    for (const model of ['imagenet', 'imagenet-small', 'imagenet-tf2', 'birds', 'insects']) {
      const [a, b] = await Promise.all([
        classify(photo('grace_hopper.jpg'), { model, catalog: ort }),
        classify(photo('grace_hopper.jpg'), { model, catalog: litert }),
      ]);
      assert.equal(a.engine, 'ort');
      assert.equal(b.engine, 'litert');
      assert.equal(a.label, b.label, model);
      assert.ok(Math.abs(a.score - b.score) <= 2 / 255, `${model}: ${a.score} vs ${b.score}`);
    }
    await Promise.all([ort.dispose(), litert.dispose()]);
  });
});

describe('imagenet-sample, all 1000 photos, ort against litert', () => {
  it('top-1 accuracy within 0.2 percentage points, and the same top-1 on nearly every photo', async () => {
    const photos = listImagenetSample();
    assert.equal(photos.length, 1000);
    const [ort, litert] = await Promise.all([
      new ModelCatalog({ warmUp: false, engine: 'ort' }).load('imagenet'),
      new ModelCatalog({ warmUp: false, engine: 'litert' }).load('imagenet'),
    ]);
    assert.equal(ort.engineName, 'ort');
    assert.equal(litert.engineName, 'litert');
    let ortRight = 0;
    let litertRight = 0;
    let agree = 0;
    // Each photo decoded once, as classify() prepares it (cover, 224x224 RGB), run on both.
    for (const sample of photos) {
      const opened = await openImage(readFileSync(sample.path));
      const input = rgbToTensor(await resizeToRgb(opened, 224, 224, 'cover'), ort.layout);
      const [a] = await ort.engine.run([input]);
      const [b] = await litert.engine.run([input]);
      const top = (scores: TensorData | undefined) => argmax(scores as TensorData); // expectedIndex counts 'background' too
      if (top(a) === sample.expectedIndex) ortRight++;
      if (top(b) === sample.expectedIndex) litertRight++;
      if (top(a) === top(b)) agree++;
    }
    const difference = Math.abs(ortRight - litertRight) / 10; // percentage points
    assert.ok(difference <= 0.2, `ort ${ortRight / 10}% vs litert ${litertRight / 10}%`);
    assert.ok(agree >= 995, `same top-1 on ${agree} of 1000`);
    ort.engine.dispose();
    litert.engine.dispose();
  });
});

/** uint8 [1, 4, 4, 3] -> CAST -> SIN -> float32: a model LiteRT runs and the converter cannot. */
function sineModel(): Uint8Array {
  return buildTflite({
    tensors: [
      { name: 'x', shape: [1, 4, 4, 3], type: UINT8 },
      { name: 'xf', shape: [1, 4, 4, 3], type: FLOAT32 },
      { name: 'y', shape: [1, 4, 4, 3], type: FLOAT32 },
    ],
    operators: [
      { code: 53, inputs: [0], outputs: [1] },
      { code: 66, inputs: [1], outputs: [2] },
    ],
    inputs: [0],
    outputs: [2],
  });
}
