/**
 * The two engines side by side in one process (issue #7): `imagenet` on grace_hopper.jpg on
 * litert and on ort with one thread and with the default threads, measured in rotating blocks
 * so machine drift hits all alike. Threads are fixed when a model is compiled, so each variant
 * gets its own catalog, compiled under its own TFLITE_FN_THREADS.
 */
import { availableParallelism } from 'node:os';
import { THREADS } from '../src/config/index.js';
import type { EngineSetting } from '../src/engine/select.js';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb, rgbToTensor } from '../src/image/to-tensor.js';
import { classify, ModelCatalog } from '../src/index.js';
import { createProgress } from '../src/util/progress.js';
import { median, percentile, round } from './stats.js';

interface Variant {
  readonly name: string;
  readonly engine: EngineSetting;
  readonly threads: number;
  catalog?: ModelCatalog;
  readonly inference: number[];
  readonly total: number[];
  /** engine.run alone, back to back on one prepared tensor: the model's own speed. */
  readonly bare: number[];
  loadMs?: number;
  /** The int8 kernels onnxruntime ran with (src/util/cpu.ts); none on litert. */
  int8Path?: string;
}

async function loadWithThreads(variant: Variant): Promise<void> {
  await THREADS.withValue(String(variant.threads), async () => {
    variant.catalog = new ModelCatalog({ engine: variant.engine });
    variant.loadMs = (await variant.catalog.load('imagenet')).loadMs;
  });
}

export async function compareEngines(photo: Buffer, iterations: number) {
  const threads = Math.min(availableParallelism(), 4);
  // LiteRT's runtime fixes its thread count once per process: the default, as served.
  const variants: Variant[] = [
    { name: `litert (${threads} threads)`, engine: 'litert', threads, inference: [], total: [], bare: [] },
    { name: 'ort (1 thread)', engine: 'ort', threads: 1, inference: [], total: [], bare: [] },
    { name: `ort (${threads} threads)`, engine: 'ort', threads, inference: [], total: [], bare: [] },
  ];
  for (const variant of variants) await loadWithThreads(variant);
  // Blocks of BLOCK runs per variant, rotating: a process serves from one engine, and an
  // engine's idle pool threads (LiteRT's spin) would otherwise tax the next variant's run.
  // The first runs of each block settle caches after the switch and are not counted.
  const BLOCK = 20;
  const SETTLE = 3;
  const progress = createProgress('engines side by side', iterations * variants.length);
  let done = 0;
  while (variants.some((variant) => variant.total.length < iterations)) {
    for (const variant of variants) {
      for (let i = 0; i < BLOCK && variant.total.length < iterations; i++) {
        const started = performance.now();
        const result = await classify(photo, { model: 'imagenet', catalog: variant.catalog as ModelCatalog });
        if (i < SETTLE) continue;
        variant.total.push(performance.now() - started);
        variant.inference.push(result.timings.inferenceMs);
        progress.update(++done);
      }
    }
  }
  for (const variant of variants) {
    const model = await (variant.catalog as ModelCatalog).load('imagenet');
    if ('int8Path' in model.engine) variant.int8Path = String(model.engine.int8Path);
    const opened = await openImage(photo);
    const input = rgbToTensor(await resizeToRgb(opened, 224, 224, 'cover'), model.layout);
    for (let i = 0; i < iterations + SETTLE; i++) {
      const started = performance.now();
      await model.engine.run([input]);
      if (i >= SETTLE) variant.bare.push(performance.now() - started);
    }
  }
  progress.finish();
  const rows = variants.map((variant) => ({
    engine: variant.name,
    'int8 kernels': variant.int8Path ?? '-',
    'load ms': round(variant.loadMs ?? 0),
    'run alone p50': round(median(variant.bare)),
    'infer p50': round(median(variant.inference)),
    'infer p95': round(percentile(variant.inference, 95)),
    'classify p50': round(median(variant.total)),
    'classify p95': round(percentile(variant.total, 95)),
  }));
  await Promise.all(variants.map((variant) => variant.catalog?.dispose()));
  return rows;
}
