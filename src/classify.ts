/**
 * classify(image bytes) → what is in the picture. The platform-free heart of tflite-fn.
 */
import type { TensorData } from './engine/types.js';
import { BadRequestError } from './errors.js';
import { defaultImageLimits, type ImageLimits, openImage } from './image/decode.js';
import { RESIZE_MODES, type ResizeMode, resizeToRgb, rgbToTensor } from './image/to-tensor.js';
import { defaultCatalog, type ModelCatalog } from './model/catalog.js';
import type { LoadedModel } from './model/loaded-model.js';
import { classicSentence } from './output/sentence.js';

export interface ClassifyOptions {
  /** Model id from the catalog; the catalog's default model when omitted. */
  readonly model?: string | undefined;
  /** How many labels to return, best first. Defaults to the descriptor's `top_k`. */
  readonly top?: number | undefined;
  /** Defaults to the descriptor's `input.resize` (`cover` for the built-in models). */
  readonly resize?: ResizeMode | undefined;
  readonly catalog?: ModelCatalog | undefined;
  readonly limits?: ImageLimits | undefined;
}

export interface Prediction {
  readonly label: string;
  /** Index in the model's output vector. */
  readonly index: number;
  /** In [0, 1]: value / 255 for uint8 outputs, the (activated) value for float outputs. */
  readonly score: number;
}

export interface Classification extends Prediction {
  readonly model: string;
  readonly engine: string;
  /** The classic WasmEdge sentence (HTML with a search link), without a newline. */
  readonly sentence: string;
  readonly top: readonly Prediction[];
  readonly resize: ResizeMode;
  readonly image: { readonly format: string; readonly width: number; readonly height: number };
  readonly timings: {
    /** Decode, orient, resize and lay out the pixels. */
    readonly decodeMs: number;
    readonly inferenceMs: number;
    /** From the call to the result, including any wait for the model to load. */
    readonly totalMs: number;
  };
}

const MAX_TOP = 100;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export function parseTop(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const top = Number(value);
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
    throw new BadRequestError(
      'bad_option',
      `top must be a whole number from 1 to ${MAX_TOP}, got '${String(value)}'`,
    );
  }
  return top;
}

export function parseResize(value: unknown): ResizeMode | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!RESIZE_MODES.includes(value as ResizeMode)) {
    throw new BadRequestError(
      'bad_option',
      `resize must be one of ${RESIZE_MODES.join(', ')}, got '${String(value)}'`,
    );
  }
  return value as ResizeMode;
}

/** Scores in [0, 1] from the raw output, per the descriptor's activation. */
function toScores(raw: TensorData, model: LoadedModel): Float64Array {
  const scores = new Float64Array(raw.length);
  if (raw instanceof Uint8Array) {
    for (let i = 0; i < raw.length; i++) scores[i] = (raw[i] as number) / 255;
    return scores;
  }
  const activation = model.descriptor.output.activation;
  if (activation === 'softmax') {
    let max = -Infinity;
    for (const value of raw) max = Math.max(max, Number(value));
    let sum = 0;
    for (let i = 0; i < raw.length; i++) {
      const e = Math.exp(Number(raw[i]) - max);
      scores[i] = e;
      sum += e;
    }
    for (let i = 0; i < raw.length; i++) scores[i] = (scores[i] as number) / sum;
  } else {
    for (let i = 0; i < raw.length; i++) {
      const value = Number(raw[i]);
      scores[i] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-value)) : value;
    }
  }
  return scores;
}

function topPredictions(scores: Float64Array, model: LoadedModel, count: number): Prediction[] {
  const offset = model.descriptor.output.label_offset;
  const order = Array.from(scores.keys()).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number) || a - b,
  );
  return order.slice(0, count).map((index) => ({
    label: model.labels[index - offset] ?? `#${index}`,
    index,
    score: Math.round((scores[index] as number) * 1e6) / 1e6,
  }));
}

export async function classify(image: Uint8Array, options: ClassifyOptions = {}): Promise<Classification> {
  const started = performance.now();
  const catalog = options.catalog ?? defaultCatalog();
  const top = parseTop(options.top);
  const resize = parseResize(options.resize);
  const entry = catalog.entry(options.model);
  // Start loading the model (a no-op once loaded) while sharp decodes on its own threads.
  const loading = catalog.load(entry.id);
  loading.catch(() => undefined); // handled below; avoids an unhandled rejection if decoding fails first

  const decodeStarted = performance.now();
  const { width, height, resize: defaultResize } = entry.descriptor.input;
  const resizeMode = resize ?? defaultResize;
  const opened = await openImage(image, options.limits ?? defaultImageLimits());
  const rgb = await resizeToRgb(opened, width, height, resizeMode);
  const model = await loading;
  const inputData = rgbToTensor(rgb, model.layout);
  const decodeMs = performance.now() - decodeStarted;

  const inferenceStarted = performance.now();
  const inputs = model.engine.inputs.map((info, index) =>
    index === model.inputIndex ? inputData : new Uint8Array(info.shape.reduce((a, b) => a * b, 1)),
  );
  const outputs = await model.engine.run(inputs);
  const inferenceMs = performance.now() - inferenceStarted;

  const scores = toScores(outputs[model.outputIndex] as TensorData, model);
  const predictions = topPredictions(scores, model, top ?? model.descriptor.output.top_k);
  const best = predictions[0] as Prediction;
  return {
    model: entry.id,
    engine: model.engineName,
    label: best.label,
    index: best.index,
    score: best.score,
    sentence: classicSentence(best.label, scores[best.index] as number, model.descriptor.wording),
    top: predictions,
    resize: resizeMode,
    image: { format: opened.format, width: opened.width, height: opened.height },
    timings: {
      decodeMs: round(decodeMs),
      inferenceMs: round(inferenceMs),
      totalMs: round(performance.now() - started),
    },
  };
}
