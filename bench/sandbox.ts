/**
 * Sandbox figures (issues #6 and #14): two WasmEdge programs classifying the same photo with
 * the `imagenet` model, each against the built-in classify() of that model stretched the same
 * way, on the same engine, measured interleaved in one run; and each one's first run in a
 * fresh process (`tflite-fn run`, as a user starts it).
 *
 *   classic 0.2: the WasmEdge classic in Rust over the legacy 0.2 ABI, model embedded;
 *   WASI-NN:     the classic in C over wasi_ephemeral_nn (model preloaded as with
 *                `wasmedge --nn-preload`) and wasmedge_image for the JPEG.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../src/classify.js';
import type { ModelCatalog } from '../src/model/catalog.js';
import { packageRoot, sharedDataDir } from '../src/store/paths.js';
import { createProgress } from '../src/util/progress.js';
import { parseNnPreload } from '../src/wasm/nn-preload.js';
import { type RunOptions, runWasm } from '../src/wasm/sandbox.js';
import { buildGuest, buildRustGuest, haveClang, haveRustWasm } from '../test/guests/build.js';
import { median, round } from './stats.js';

/** Limits an issue set for a guest: warm guest / built-in, and a first run in a new process. */
export interface SandboxTargets {
  readonly issue: string;
  readonly warmRatio: number;
  readonly firstRunMs: number;
}

interface Guest {
  readonly name: string;
  readonly wasm: string;
  /** `tflite-fn run` options before the program's path. */
  readonly cliArgs: readonly string[];
  readonly runOptions: RunOptions;
  readonly targets?: SandboxTargets;
}

export interface GuestFigures {
  readonly guest: string;
  readonly warmGuestMs: number;
  readonly warmBuiltinMs: number;
  readonly ratio: number;
  readonly firstRunMs: number;
  /** Engines the guest's sessions ran on, and the built-in's: the issue compares like with like. */
  readonly engines: string;
  readonly builtinEngine: string;
  readonly targets?: SandboxTargets;
}

/** Milliseconds from spawning `tflite-fn run` to the program's first output. */
function firstRun(guest: Guest, photo: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [join(packageRoot(), 'dist', 'handlers', 'cli', 'main.js'), 'run', ...guest.cliArgs, guest.wasm],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let answered = 0;
    child.stdout.on('data', () => {
      answered ||= performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(answered) : reject(new Error(`tflite-fn run ${guest.name} exited ${code}`)),
    );
    child.stdin.end(photo);
  });
}

function guests(models: string): Guest[] {
  const model = join(models, 'mobilenet_v2_1.0_224_quant.tflite');
  const labels = join(models, 'imagenet_labels.txt');
  const found: Guest[] = [];
  if (haveRustWasm())
    found.push({
      name: 'classic 0.2 (Rust, wasmedge_tensorflowlite, model embedded)',
      wasm: buildRustGuest(model, labels),
      cliArgs: [],
      runOptions: {},
    });
  if (haveClang()) {
    const preload = `default:TensorflowLite:CPU:${model}`;
    found.push({
      name: 'WASI-NN (C, wasi_ephemeral_nn + wasmedge_image, model preloaded)',
      wasm: buildGuest('nn-classic', { labels }),
      cliArgs: ['--nn-preload', preload],
      runOptions: { nnPreload: [parseNnPreload(preload)] },
      targets: { issue: '#14', warmRatio: 1.3, firstRunMs: 500 },
    });
  }
  return found;
}

export async function sandbox(
  photo: Buffer,
  catalog: ModelCatalog,
  iterations: number,
): Promise<{ skipped: string } | { guests: GuestFigures[] }> {
  const found = guests(join(sharedDataDir(), 'models'));
  if (found.length === 0)
    return { skipped: 'neither clang/wasi-libc nor Debian rustc for wasm32-wasi installed' };
  const builtinRun = () => classify(photo, { model: 'imagenet', resize: 'fill', catalog });
  const programs = found.map((guest) => readFileSync(guest.wasm));
  const engines = found.map(() => new Set<string>());
  // Warm-up: programs compiled, models compiled and cached, worker threads started.
  for (let i = 0; i < 3; i++) {
    for (const [at, guest] of found.entries())
      await runWasm(programs[at] as Uint8Array, { ...guest.runOptions, stdin: photo });
    await builtinRun();
  }
  const guestMs = found.map((): number[] => []);
  const builtinMs: number[] = [];
  let builtinEngine = '';
  const progress = createProgress('sandbox: guests and built-in, interleaved', iterations);
  for (let i = 0; i < iterations; i++) {
    for (const [at, guest] of found.entries()) {
      const started = performance.now();
      const result = await runWasm(programs[at] as Uint8Array, { ...guest.runOptions, stdin: photo });
      guestMs[at]?.push(performance.now() - started);
      if (result.exitCode !== 0) throw new Error(`${guest.name} exited ${result.exitCode}`);
      for (const engine of result.engines) engines[at]?.add(engine);
    }
    const started = performance.now();
    builtinEngine = (await builtinRun()).engine;
    builtinMs.push(performance.now() - started);
    progress.update(i + 1);
  }
  progress.finish();
  const builtin = median(builtinMs);
  const figures: GuestFigures[] = [];
  for (const [at, guest] of found.entries()) {
    const first: number[] = [];
    for (let i = 0; i < 3; i++) first.push(await firstRun(guest, photo));
    const warm = median(guestMs[at] as number[]);
    figures.push({
      guest: guest.name,
      warmGuestMs: round(warm),
      warmBuiltinMs: round(builtin),
      ratio: round(warm / builtin, 2),
      firstRunMs: round(median(first)),
      engines: [...(engines[at] as Set<string>)].join(', '),
      builtinEngine,
      ...(guest.targets ? { targets: guest.targets } : {}),
    });
  }
  return { guests: figures };
}
