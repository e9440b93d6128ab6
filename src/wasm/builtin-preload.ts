/**
 * `--nn-preload default:TensorflowLite:CPU:imagenet`: a PATH that is no file but the id of a
 * catalog model (`tflite-fn models`) preloads that model. A deployment then ships no copy of a
 * built-in model: the Lambda layer, Vercel's function, the server and the CLI have its file
 * and its verified conversion for the native engine already; Netlify's function has only the
 * conversion, which is enough (the model runs from it, its file unread). A file of that name
 * wins, so WasmEdge's meaning of PATH (a file) is unchanged.
 */
import { existsSync } from 'node:fs';
import { plannedEngine } from '../engine/select.js';
import { BadRequestError } from '../errors.js';
import { defaultCatalog } from '../model/catalog.js';
import type { ModelFormat } from './host-calls.js';
import { type NnPreload, parseNnPreload } from './nn-preload.js';

interface BuiltinModel {
  readonly path: string;
  readonly sha256?: string | undefined;
}

/** The catalog model whose id `given` is, for a TensorFlow Lite (or autodetected) preload. */
function builtinModel(given: string, format: ModelFormat | 'autodetect'): BuiltinModel | undefined {
  if (format === 'onnx') return undefined;
  const catalog = defaultCatalog();
  const entry = catalog.entries().find((candidate) => candidate.id === given);
  if (!entry?.descriptor) return undefined;
  return { path: catalog.locate(entry, entry.descriptor.model).path, sha256: entry.descriptor.model.sha256 };
}

/**
 * Parses one `--nn-preload` value as parseNnPreload does, `asFile` resolving a file path; a
 * PATH that is no file but a model id names that model's file, and, where only its verified
 * conversion is here, pins the model by sha256: runWasm then compiles it from the conversion.
 */
export function parsePreload(spec: string, asFile: (path: string) => string = (path) => path): NnPreload {
  let pinned: BuiltinModel | undefined;
  const preload = parseNnPreload(spec, (given, format) => {
    const path = asFile(given);
    if (existsSync(path)) return path;
    const model = builtinModel(given, format);
    if (!model) return path;
    if (existsSync(model.path)) return model.path;
    if (!model.sha256 || !plannedEngine(model.sha256, 'ort').ready)
      throw new BadRequestError(
        'bad_option',
        `--nn-preload ${spec.split(':')[0]}: '${given}' is a built-in model, but neither its file (${model.path}) nor its verified conversion is here (run: npx tflite-fn setup)`,
      );
    pinned = model;
    return model.path;
  });
  return pinned?.sha256 ? { ...preload, pinnedSha256: pinned.sha256 } : preload;
}
