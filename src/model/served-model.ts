/**
 * The model an engine actually runs. Usually the .tflite file as it is; with `model.outputs`
 * in the descriptor, the graph cut short at those tensors (src/tflite/cut.ts), for models
 * whose tail LiteRT.js cannot run (SSD's post-processing op, DeepLab's INT64 ArgMax).
 *
 * Everything keyed by "the model" (the stored ONNX conversion and its report, the engine
 * plan) is keyed by servedModelKey, so a cut model never meets the conversion of the whole
 * file, nor a cut at other tensors. Loader, engine plan, set-up and `tflite-fn models` all
 * use this one function.
 */
import { sha256Hex } from './model-file.js';

export interface ServedModelRef {
  readonly sha256?: string | undefined;
  /** Tensor names the graph stops at (the served model's outputs, in this order). */
  readonly outputs?: readonly string[] | undefined;
}

/**
 * The key of the served model: the file's sha256 when it runs whole; for a cut, the sha256
 * of that sha256 and the cut's output names (in order: they are the outputs' order).
 */
export function servedModelKey(tfliteSha256: string, outputs: readonly string[] | undefined): string {
  if (!outputs || outputs.length === 0) return tfliteSha256;
  return sha256Hex(new TextEncoder().encode(`${tfliteSha256}\ncut at ${JSON.stringify(outputs)}`));
}

/** The served model's key from the descriptor alone, when its sha256 is pinned. */
export function pinnedServedKey(model: ServedModelRef): string | undefined {
  return model.sha256 === undefined ? undefined : servedModelKey(model.sha256, model.outputs);
}

/** The bytes to run: the file itself, or its graph cut at `outputs`. */
export async function servedModelBytes(
  tflite: Uint8Array,
  outputs: readonly string[] | undefined,
  label: string,
): Promise<Uint8Array> {
  if (!outputs || outputs.length === 0) return tflite;
  // Imported on need: most models are not cut, and a cold start should not load the reader.
  const { cutGraph } = await import('../tflite/cut.js');
  return cutGraph(tflite, outputs, label);
}
