/**
 * embed: a photo as a vector (an image embedding), for search by similarity, de-duplication
 * and clustering: photos of similar things get vectors pointing in similar directions.
 * Vectors are unit length (L2-normalised), so the cosine similarity of two is their dot
 * product.
 */
import type * as Zod from 'zod';
import { ModelLoadError } from '../../errors.js';
import type { ModelDescriptor } from '../../model/descriptor.js';
import type { InferContext, ModelParts, Task, TaskResultBase, TaskSummary } from '../task.js';
import type { Quantization } from './output-quantization.js';
import { cosineSimilarity, unitEmbedding } from './vector.js';

export { cosineSimilarity } from './vector.js';

export interface EmbedResult extends TaskResultBase {
  /** Length of `embedding` (1024 for MobileNet v1). */
  readonly dims: number;
  /** Unit length; 6 decimals (a rounding error far below the uint8 output's own step). */
  readonly embedding: readonly number[];
}

interface EmbedState {
  readonly outputIndex: number;
  readonly quantization: Quantization | undefined;
}

function sectionSchema(z: typeof Zod.z) {
  return z.strictObject({
    /** The embedding output; default: the model's only output. */
    output: z.string().optional(),
  });
}

type EmbedSection = Zod.output<ReturnType<typeof sectionSchema>>;

function sectionOf(descriptor: ModelDescriptor): EmbedSection {
  return (descriptor as unknown as { embed?: EmbedSection }).embed ?? {};
}

async function prepareModel({ descriptor, engine, tflite }: ModelParts): Promise<EmbedState> {
  const wanted = sectionOf(descriptor).output;
  const outputs = engine.outputs;
  const outputIndex =
    wanted === undefined ? (outputs.length === 1 ? 0 : -1) : outputs.findIndex((o) => o.name === wanted);
  const output = outputs[outputIndex];
  if (!output) {
    throw new ModelLoadError(
      `${descriptor.id}: embed.output ${wanted === undefined ? 'must name one of several outputs' : `'${wanted}' is not an output`} of the model (outputs: ${outputs.map((o) => o.name).join(', ')})`,
    );
  }
  if (output.dtype === 'int32') {
    throw new ModelLoadError(
      `${descriptor.id}: output '${output.name}' is int32; an embedding is uint8 or float32`,
    );
  }
  // A mask, heatmap or keypoint output would pass as a "vector" of every value it holds (5.5
  // million for DeepLab's scores): an embedding has one dimension above 1.
  if (output.shape.filter((size) => size > 1).length > 1) {
    throw new ModelLoadError(
      `${descriptor.id}: output '${output.name}' is ${output.dtype} [${output.shape.join(', ')}], not a vector; an embedding output has one dimension above 1, such as [1, 1024]`,
    );
  }
  // Reading the model's constants loads on first use (see src/tasks/index.ts).
  const { outputQuantization } = await import('./output-quantization.js');
  const quantization =
    output.dtype === 'uint8'
      ? outputQuantization(await tflite(), descriptor.id, { name: output.name, index: outputIndex })
      : undefined;
  if (output.dtype === 'uint8' && !quantization) {
    throw new ModelLoadError(
      `${descriptor.id}: uint8 output '${output.name}' has no quantization to read it with`,
    );
  }
  return { outputIndex, quantization };
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

async function infer(context: InferContext<EmbedState>): Promise<Omit<EmbedResult, keyof TaskResultBase>> {
  const { photo, model } = context;
  // Image code loads on first use (see src/tasks/index.ts).
  const { resizeToRgb, rgbToTensor } = await import('../../image/to-tensor.js');
  const tensor = await context.preparing(async () => {
    const { width, height } = model.layout;
    const rgb = await resizeToRgb(photo, width, height, model.descriptor.input.resize);
    return rgbToTensor(rgb, model.layout);
  });
  const outputs = await context.run(tensor);
  const raw = outputs[model.state.outputIndex];
  if (!raw) throw new ModelLoadError(`${model.descriptor.id} returned no output ${model.state.outputIndex}`);
  const embedding = Array.from(unitEmbedding(raw, model.state.quantization), round6);
  return { dims: embedding.length, embedding };
}

function text(result: EmbedResult): string {
  const head = result.embedding.slice(0, 4).map((v) => v.toFixed(4));
  return `${result.dims}-d embedding (unit length): [${head.join(', ')}, …] (--json for every value)`;
}

/**
 * Up to this many photos the summary lists every pair (1225 lines for 50); beyond it, each
 * photo's most similar other photo: one line a photo, instead of holding, sorting and printing
 * n²/2 pairs (50 million for a folder of 10 000 photos).
 */
export const EVERY_PAIR_UP_TO = 50;

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly similarity: number;
}

/** The pairs most similar first, as text lines under `title` and as JSON under `key`. */
function pairSummary(title: string, key: 'similarities' | 'nearest', pairs: Pair[]): TaskSummary {
  pairs.sort((x, y) => y.similarity - x.similarity);
  return {
    text: [title, ...pairs.map((p) => `  ${p.similarity.toFixed(4)}  ${p.a}  ${p.b}`)].join('\n'),
    json: { [key]: pairs.map((p) => ({ a: p.a, b: p.b, cosine: Math.round(p.similarity * 1e4) / 1e4 })) },
  };
}

/** Every pair's cosine similarity (each photo's nearest for many photos), most similar first. */
function summarize(results: readonly EmbedResult[], names: readonly string[]): TaskSummary | undefined {
  if (results.length < 2) return undefined;
  const name = (i: number) => names[i] ?? `#${i + 1}`;
  const similarity = (i: number, j: number) =>
    cosineSimilarity((results[i] as EmbedResult).embedding, (results[j] as EmbedResult).embedding);
  if (results.length <= EVERY_PAIR_UP_TO) {
    const pairs: Pair[] = [];
    for (let i = 0; i < results.length; i++)
      for (let j = i + 1; j < results.length; j++)
        pairs.push({ a: name(i), b: name(j), similarity: similarity(i, j) });
    return pairSummary('cosine similarity:', 'similarities', pairs);
  }
  const nearest = results.map((_, i) => {
    let best: Pair = { a: name(i), b: '', similarity: -Infinity };
    for (let j = 0; j < results.length; j++) {
      if (j === i) continue;
      const value = similarity(i, j);
      if (value > best.similarity) best = { a: name(i), b: name(j), similarity: value };
    }
    return best;
  });
  return pairSummary(
    `cosine similarity: each photo's most similar (every pair is listed for up to ${EVERY_PAIR_UP_TO} photos):`,
    'nearest',
    nearest,
  );
}

export const embedTask: Task<Record<string, never>, EmbedResult, EmbedState> = {
  id: 'embed',
  summary: 'the photo as a unit-length vector (image embedding) for similarity search',
  defaultModel: 'mobilenet-embed',
  section: { key: 'embed', schema: sectionSchema, optional: true },
  prepareModel,
  parseOptions: () => ({}),
  infer,
  text,
  cli: { flags: [], defaultFormat: 'json', summarize },
};
