/**
 * Models preloaded for WASI-NN's `load_by_name`, given as WasmEdge takes them:
 * `--nn-preload NAME:ENCODING:TARGET:PATH` (e.g. `default:TensorflowLite:CPU:model.tflite`).
 * The operator names host files here, not the guest: they are read by the host, never through
 * the program's granted folders.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { BadRequestError } from '../errors.js';
import type { ModelFormat } from './host-calls.js';

export interface NnPreload {
  readonly name: string;
  readonly format: ModelFormat;
  readonly path: string;
  /**
   * A built-in model's sha256, pinned by its descriptor (builtin-preload.ts): when the bundle
   * has only its verified conversion (Netlify), the model runs from that, its file unread.
   */
  readonly pinnedSha256?: string;
}

/** A preload as a run's worker gets it: the sha256 lets the model be found compiled unread. */
export interface ResolvedPreload extends NnPreload {
  readonly sha256: string;
  /** A pinned model without its file: the run's owner compiles it from its conversion. */
  readonly fromConversion?: boolean;
}

/** WasmEdge's encoding names (case as its docs write them; any case is taken). */
const ENCODINGS: Record<string, ModelFormat | 'autodetect'> = {
  onnx: 'onnx',
  tensorflowlite: 'tflite',
  autodetect: 'autodetect',
};

const usage = (spec: string, why: string) =>
  new BadRequestError('bad_option', `--nn-preload takes NAME:ENCODING:TARGET:PATH, got '${spec}': ${why}`);

/** A TensorFlow Lite flatbuffer has the identifier 'TFL3' at byte 4. */
export function isTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(4, 8)) === 'TFL3';
}

/** The PATH part of an `--nn-preload` value, as given (a path may itself hold ':'). */
export function preloadPathOf(spec: string): string {
  return spec.split(':').slice(3).join(':');
}

/** Parses one `--nn-preload` value; the file is checked when the run starts (resolvePreloads). */
export function parseNnPreload(
  spec: string,
  resolvePath: (path: string, format: ModelFormat | 'autodetect') => string = (path) => path,
): NnPreload {
  const [name = '', encoding = '', target = ''] = spec.split(':');
  const given = preloadPathOf(spec);
  if (!name || !given) throw usage(spec, 'a part is missing');
  const format = ENCODINGS[encoding.toLowerCase()];
  if (!format) throw usage(spec, `encoding '${encoding}' is not one of TensorflowLite, ONNX, Autodetect`);
  const path = resolvePath(given, format);
  // WasmEdge's TensorFlow Lite backend refuses any target but CPU when the model loads; here
  // the mistake is caught before the program starts.
  if (target.toUpperCase() !== 'CPU') throw usage(spec, `target '${target}': only CPU is supported`);
  if (format === 'autodetect') {
    const head = readHead(spec, path);
    if (!isTflite(head))
      throw usage(
        spec,
        "autodetect: the file is not a TensorFlow Lite model (no 'TFL3' identifier); ONNX has no magic number to detect: preload it as NAME:ONNX:CPU:PATH",
      );
    return { name, format: 'tflite', path };
  }
  return { name, format, path };
}

function readHead(spec: string, path: string): Uint8Array {
  try {
    return readFileSync(path).subarray(0, 8);
  } catch (cause) {
    throw usage(spec, `cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** sha256 by path, size and mtime: a server runs the same preloads on every request. */
const hashes = new Map<string, { readonly stamp: string; readonly sha256: string }>();

/** Each preload with its file's sha256; a file that is missing or too large is a usage error. */
export function resolvePreloads(preloads: readonly NnPreload[], maxModelBytes: number): ResolvedPreload[] {
  return preloads.map((preload) => {
    if (preload.pinnedSha256 && !existsSync(preload.path))
      return { ...preload, sha256: preload.pinnedSha256, fromConversion: true };
    let stamp: string;
    try {
      const stat = statSync(preload.path);
      if (stat.size > maxModelBytes)
        throw new BadRequestError(
          'bad_option',
          `--nn-preload ${preload.name}: ${preload.path} is ${stat.size} bytes; the limit is ${maxModelBytes} (TFLITE_FN_MAX_MODEL_BYTES)`,
        );
      stamp = `${stat.size}:${stat.mtimeMs}`;
    } catch (cause) {
      if (cause instanceof BadRequestError) throw cause;
      throw new BadRequestError('bad_option', `--nn-preload ${preload.name}: cannot read ${preload.path}`, {
        cause,
      });
    }
    let known = hashes.get(preload.path);
    if (known?.stamp !== stamp) {
      known = { stamp, sha256: createHash('sha256').update(readFileSync(preload.path)).digest('hex') };
      hashes.set(preload.path, known);
    }
    return { ...preload, sha256: known.sha256 };
  });
}
