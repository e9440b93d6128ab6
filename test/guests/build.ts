/**
 * Builds the test guests for wasm32-wasi: C ones with Debian's clang and wasi-libc, the Rust
 * one with Debian's rustc and its wasm32 standard library (all installed by .ci/run; /usr/bin
 * is named because a rustup toolchain without the wasm32 target may come first on PATH).
 * Embedded models and labels are read from their files at build time.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelCacheDir, packageRoot } from '../../src/store/paths.js';
import { parseNnPreload } from '../../src/wasm/nn-preload.js';
import { runWasm } from '../../src/wasm/sandbox.js';

const SOURCES = join(packageRoot(), 'test', 'guests');
/** Built guests go to a temporary folder: tests leave nothing in the working tree. */
const OUT = join(mkdtempSync(join(tmpdir(), 'tflite-fn-guests-')), 'guests');

export function haveClang(): boolean {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    return existsSync('/usr/lib/wasm32-wasi/libc.a');
  } catch {
    return false;
  }
}

function cArray(name: string, bytes: Uint8Array): string {
  const body: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) body.push(Array.from(bytes.subarray(i, i + 32)).join(','));
  return `static const unsigned char ${name}[] = {\n${body.join(',\n')},0};\nstatic const unsigned int ${name}_len = ${bytes.length};\n`;
}

export function buildGuest(
  name: 'classify' | 'errno' | 'hostile' | 'wasi-nn' | 'nn-classic',
  embed: { model?: string; labels?: string } = {},
): string {
  mkdirSync(OUT, { recursive: true });
  if (embed.model) writeFileSync(join(OUT, 'model.h'), cArray('model_tflite', readFileSync(embed.model)));
  if (embed.labels) writeFileSync(join(OUT, 'labels.h'), cArray('labels_txt', readFileSync(embed.labels)));
  const wasm = join(OUT, `${name}.wasm`);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', `-I${OUT}`, '-o', wasm, join(SOURCES, `${name}.c`)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return wasm;
}

const RUSTC = '/usr/bin/rustc';
const RUST_FLAGS = ['--edition', '2021', '--target', 'wasm32-wasi', '-O'];

export function haveRustWasm(): boolean {
  return existsSync(RUSTC) && existsSync('/usr/lib/rustlib/wasm32-wasi');
}

/** The WasmEdge classic in Rust, over our stand-in for the wasmedge_tensorflow_interface crate. */
export function buildRustGuest(model: string, labels: string): string {
  mkdirSync(OUT, { recursive: true });
  const rust = join(SOURCES, 'rust');
  const library = join(OUT, 'libwasmedge_tensorflow_interface.rlib');
  const common = RUST_FLAGS;
  execFileSync(
    RUSTC,
    [
      ...common,
      '--crate-type',
      'rlib',
      '--crate-name',
      'wasmedge_tensorflow_interface',
      join(rust, 'wasmedge_tensorflow_interface.rs'),
      '-o',
      library,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const wasm = join(OUT, 'classify-rs.wasm');
  execFileSync(
    RUSTC,
    [
      ...common,
      '--extern',
      `wasmedge_tensorflow_interface=${library}`,
      join(rust, 'classify.rs'),
      '-o',
      wasm,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, TFLITE_FN_GUEST_MODEL: model, TFLITE_FN_GUEST_LABELS: labels },
    },
  );
  return wasm;
}

/** A Rust library of ours standing in for a crates.io crate, built to an rlib in OUT. */
function buildRustLibrary(crate: string, source: string): string {
  const library = join(OUT, `lib${crate}.rlib`);
  execFileSync(
    RUSTC,
    [
      ...RUST_FLAGS,
      '--crate-type',
      'rlib',
      '--crate-name',
      crate,
      join(SOURCES, 'rust', source),
      '-o',
      library,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return library;
}

/** Labels as the Rust array WasmEdge's bird example compiles in (`imagenet_classes::AIY_BIRDS_V1`). */
function labelsModule(labelsFile: string): string {
  const labels = readFileSync(labelsFile, 'utf8').trimEnd().split('\n');
  const quoted = labels.map((label) => `    "${label.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}",`);
  return `pub const AIY_BIRDS_V1: [&str; ${labels.length}] = [\n${quoted.join('\n')}\n];\n`;
}

/** A Rust program over our `wasi-nn` 0.6 and `image` 0.23 stand-ins, built to OUT/NAME.wasm. */
function buildRustNnProgram(name: string, main: string): string {
  const wasiNn = buildRustLibrary('wasi_nn', join('wasi_nn', 'lib.rs'));
  const image = buildRustLibrary('image', join('image', 'lib.rs'));
  const wasm = join(OUT, `${name}.wasm`);
  execFileSync(
    RUSTC,
    [...RUST_FLAGS, '--extern', `wasi_nn=${wasiNn}`, '--extern', `image=${image}`, main, '-o', wasm],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return wasm;
}

/**
 * WasmEdge's WASI-NN example tflite-birds_v1-image in Rust, over our stand-ins for the
 * `wasi-nn` 0.6 and `image` 0.23 crates; the labels file becomes its `imagenet_classes` module.
 */
export function buildRustBirdsGuest(labelsFile: string): string {
  const folder = join(OUT, 'tflite-birds');
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(SOURCES, 'rust', 'tflite-birds', 'main.rs'), join(folder, 'main.rs'));
  writeFileSync(join(folder, 'imagenet_classes.rs'), labelsModule(labelsFile));
  return buildRustNnProgram('tflite-birds-rs', join(folder, 'main.rs'));
}

/** A classifier over the same stand-ins for ONNX, autodetect and preloaded graphs (nn-classify/main.rs). */
export function buildRustNnClassifyGuest(): string {
  mkdirSync(OUT, { recursive: true });
  return buildRustNnProgram('nn-classify-rs', join(SOURCES, 'rust', 'nn-classify', 'main.rs'));
}

/**
 * The programs the platform tests serve, put in `programs/` of the project folder given (a
 * temporary copy or folder, never the clone: `serverless package` would ship whatever a test
 * left there).
 */
export interface ProgramFixture {
  /** Relative to the package root, as a deployment names it in TFLITE_FN_PROGRAM. */
  readonly relativePath: string;
  readonly bytes: Uint8Array;
  /** Its files in programs/, relative to the package root: what a platform's package ships. */
  readonly files: readonly string[];
  /** The deployment's settings that serve it: TFLITE_FN_PROGRAM, TFLITE_FN_NN_PRELOAD. */
  readonly env: Readonly<Record<string, string>>;
  /** What it prints for `stdin`, run directly in the sandbox: what every surface must answer. */
  answer(stdin: Uint8Array): Promise<string>;
}

function placeFiles(projectRoot: string, files: Record<string, string>): string[] {
  mkdirSync(join(projectRoot, 'programs'), { recursive: true });
  for (const [relativePath, source] of Object.entries(files))
    copyFileSync(source, join(projectRoot, relativePath));
  return Object.keys(files);
}

const printed = async (program: Uint8Array, options: Parameters<typeof runWasm>[1]) =>
  new TextDecoder().decode((await runWasm(program, options)).stdout);

/** The 0.2 classic in C, its model and labels compiled in. */
export function programFixture(projectRoot: string): ProgramFixture {
  const built = buildGuest('classify', {
    model: join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite'),
    labels: join(modelCacheDir(), 'imagenet_labels.txt'),
  });
  const relativePath = 'programs/classify.wasm';
  const bytes = readFileSync(built);
  return {
    relativePath,
    bytes,
    files: placeFiles(projectRoot, { [relativePath]: built }),
    env: { TFLITE_FN_PROGRAM: relativePath },
    answer: (stdin) => printed(bytes, { stdin }),
  };
}

/**
 * The classic over WASI-NN (nn-classic.c), deployed as WasmEdge runs it with `--nn-preload
 * default:TensorflowLite:CPU:mobilenet_v2_1.0_224_quant.tflite`: the model file beside the
 * program in programs/, named by TFLITE_FN_NN_PRELOAD relative to the package root. With
 * `byId`, the deployment ships no model: TFLITE_FN_NN_PRELOAD names the built-in `imagenet`
 * (the same file) by its id.
 */
export function nnProgramFixture(projectRoot: string, options: { byId?: boolean } = {}): ProgramFixture {
  const built = buildGuest('nn-classic', { labels: join(modelCacheDir(), 'imagenet_labels.txt') });
  const relativePath = 'programs/nn-classic.wasm';
  const model = 'programs/mobilenet_v2_1.0_224_quant.tflite';
  const cached = join(modelCacheDir(), 'mobilenet_v2_1.0_224_quant.tflite');
  const bytes = readFileSync(built);
  const files = placeFiles(projectRoot, {
    [relativePath]: built,
    ...(options.byId ? {} : { [model]: cached }),
  });
  const preload = (path: string) => `default:TensorflowLite:CPU:${path}`;
  return {
    relativePath,
    bytes,
    files,
    env: {
      TFLITE_FN_PROGRAM: relativePath,
      TFLITE_FN_NN_PRELOAD: preload(options.byId ? 'imagenet' : model),
    },
    answer: (stdin) => printed(bytes, { stdin, nnPreload: [parseNnPreload(preload(cached))] }),
  };
}
