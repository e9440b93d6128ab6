/**
 * Accuracy on the ImageNet sample (one photo per class). Sorted by file name, the i-th photo
 * (0-based) belongs to line i+1 of imagenet_labels.txt (line 0 is 'background'), which is
 * output index i+1 of the ImageNet models. Indexes are compared, not names: two classes share
 * the name 'maillot'.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classify } from '../src/classify.js';
import { IMAGENET_SAMPLE } from '../src/config/index.js';
import type { ResizeMode } from '../src/image/to-tensor.js';
import type { ModelCatalog } from '../src/model/catalog.js';
import { sharedDataDir } from '../src/store/paths.js';

export interface SamplePhoto {
  readonly path: string;
  readonly expectedIndex: number;
}

export function imagenetSampleDir(): string {
  return IMAGENET_SAMPLE.read() ?? join(sharedDataDir(), 'imagenet-sample');
}

export function listImagenetSample(dir = imagenetSampleDir()): SamplePhoto[] {
  return readdirSync(dir)
    .filter((name) => /\.jpe?g$/i.test(name))
    .sort()
    .map((name, i) => ({ path: join(dir, name), expectedIndex: i + 1 }));
}

export interface Accuracy {
  readonly top1: number;
  readonly top5: number;
  readonly count: number;
}

export async function measureAccuracy(
  photos: readonly SamplePhoto[],
  options: { model: string; resize: ResizeMode; catalog: ModelCatalog; onProgress?: (done: number) => void },
): Promise<Accuracy> {
  let top1 = 0;
  let top5 = 0;
  let done = 0;
  for (const photo of photos) {
    const result = await classify(await readFile(photo.path), {
      model: options.model,
      resize: options.resize,
      top: 5,
      catalog: options.catalog,
    });
    if (result.index === photo.expectedIndex) top1++;
    if (result.top.some((p) => p.index === photo.expectedIndex)) top5++;
    options.onProgress?.(++done);
  }
  return { top1: top1 / photos.length, top5: top5 / photos.length, count: photos.length };
}
