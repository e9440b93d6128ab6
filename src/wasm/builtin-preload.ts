/**
 * `--nn-preload default:TensorflowLite:CPU:imagenet`: a PATH that is no file but the id of a
 * catalog model (`tflite-fn models`) preloads that model's .tflite file. A deployment then
 * ships no copy of a built-in model: the Lambda layer, Vercel's function, the server and the
 * CLI have its file and its verified conversion for the native engine already. A file of that
 * name wins, so WasmEdge's meaning of PATH (a file) is unchanged.
 */
import { existsSync } from 'node:fs';
import { defaultCatalog } from '../model/catalog.js';
import type { ModelFormat } from './host-calls.js';

/**
 * The path a preload's PATH names: `path` (as the caller resolves a file path) when that file
 * exists; else, for a TensorFlow Lite (or autodetected) preload, the file of the catalog model
 * whose id PATH is; else `path`, for resolvePreloads to report as missing.
 */
export function preloadPath(
  given: string,
  format: ModelFormat | 'autodetect',
  asFile: (path: string) => string = (path) => path,
): string {
  const path = asFile(given);
  if (existsSync(path) || format === 'onnx') return path;
  const catalog = defaultCatalog();
  const entry = catalog.entries().find((candidate) => candidate.id === given);
  if (!entry?.descriptor) return path;
  return catalog.locate(entry, entry.descriptor.model).path;
}
