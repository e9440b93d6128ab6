/**
 * Loads LiteRT.js (TensorFlow Lite compiled to WebAssembly) inside Node.
 *
 * LiteRT.js is written for browsers: its loader runs the Emscripten glue with
 * `importScripts()` (a web worker) or a <script> tag, then reads `self.ModuleFactory`. This
 * module is the only place that knows that. It provides those two globals for the duration
 * of the load and removes them afterwards, so the process keeps no browser look-alikes that
 * could fool other libraries. The glue takes its Node path and wants `require`, `__dirname`
 * and (threaded build) `navigator.hardwareConcurrency`, which ESM and Node 20 do not have in
 * scope: we hand them in through a function wrapper instead of globals.
 *
 * Threads: XNNPACK on two threads runs MobileNetV2 in 11.4 ms instead of 21.4 ms on this
 * project's 2-vCPU machines. The threaded build needs relaxed SIMD, and runs its glue again in
 * worker threads as a script, so the glue must be loadable as CommonJS: we give the workers a
 * `.cjs` copy in the temp folder, as the LiteRT package itself is an ES module package.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInThisContext } from 'node:vm';
import type * as LiteRtCore from '@litertjs/core';
import { DEBUG, LITERT_WASM_DIR, THREADS } from '../config/index.js';
import { ModelLoadError } from '../errors.js';

export type LiteRtModule = typeof LiteRtCore;
export type LiteRt = Awaited<ReturnType<LiteRtModule['loadLiteRt']>>;

export interface LiteRtRuntime {
  readonly core: LiteRtModule;
  readonly liteRt: LiteRt;
  /** Threads each model runs on (1 = the single-threaded build). */
  readonly threads: number;
  /** Milliseconds spent loading the wasm runtime, for timings and the benchmark. */
  readonly loadMs: number;
}

const require = createRequire(import.meta.url);
const THREADED_GLUE = 'litert_wasm_threaded_internal.js';
let runtime: Promise<LiteRtRuntime> | undefined;

/**
 * The folder holding LiteRT's `.wasm` and glue `.js` files. A Lambda layer or a bundler may
 * put them elsewhere: `TFLITE_FN_LITERT_WASM_DIR` points at that folder.
 */
export function liteRtWasmDir(): string {
  const override = LITERT_WASM_DIR.read();
  if (override) return override;
  return join(dirname(require.resolve('@litertjs/core/package.json')), 'wasm');
}

/**
 * Inference threads: TFLITE_FN_THREADS, else the CPUs this process may use, at most 4 (more
 * buys little for models this size). A server running one worker per core sets it to 1.
 */
export function configuredThreads(): number {
  const configured = THREADS.read();
  if (configured !== undefined) return Math.min(configured, 16);
  return Math.max(1, Math.min(availableParallelism(), 4));
}

/** Loads the runtime once per process; every caller shares the same promise. */
export function loadLiteRtRuntime(): Promise<LiteRtRuntime> {
  runtime ??= loadOnce().catch((error: unknown) => {
    runtime = undefined; // let a later call try again, e.g. after the user fixes the install
    throw error;
  });
  return runtime;
}

/** Where LiteRT's C++ log lines go. They are INFO chatter unless TFLITE_FN_DEBUG is set. */
function engineLog(line: string): void {
  if (DEBUG.value()) process.stderr.write(`[litert] ${line}\n`);
}

/** A CommonJS copy of the threaded glue for its worker threads, written once per version. */
function commonJsGlueCopy(wasmDir: string): string {
  const source = readFileSync(join(wasmDir, THREADED_GLUE));
  const version = (require('@litertjs/core/package.json') as { version: string }).version;
  const dir = join(tmpdir(), `tflite-fn-litert-${version}-${source.length}`);
  const copy = join(dir, THREADED_GLUE.replace(/\.js$/, '.cjs'));
  if (!existsSync(copy)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${copy}.${process.pid}`;
    writeFileSync(partial, source);
    renameSync(partial, copy); // atomic: concurrent processes never see half a file
  }
  return copy;
}

async function loadOnce(): Promise<LiteRtRuntime> {
  let core: LiteRtModule;
  try {
    core = await import('@litertjs/core');
  } catch (cause) {
    throw new ModelLoadError(
      `could not load the LiteRT.js package (@litertjs/core) from ${process.cwd()}. Fix: npm install @litertjs/core`,
      { cause },
    );
  }
  // Relaxed SIMD is on by default from Node 22; Node 20 has it behind this flag, which must be
  // set before the first wasm compile. With it on, LiteRT picks the same builds on every Node
  // version we support (litert_wasm_internal, or _threaded_internal), so a Lambda layer ships
  // those two and not the compat and JSPI builds.
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  const relaxedSimd = await core.supportsFeature('relaxedSimd');
  const threads = relaxedSimd ? configuredThreads() : 1;
  if (threads > 1) {
    try {
      return await loadWith(core, threads);
    } catch (error) {
      engineLog(`threaded runtime failed (${String(error)}); using one thread`);
    }
  }
  return loadWith(core, 1);
}

async function loadWith(core: LiteRtModule, threads: number): Promise<LiteRtRuntime> {
  const started = performance.now();
  const wasmDir = liteRtWasmDir();
  const workerScript = threads > 1 ? commonJsGlueCopy(wasmDir) : undefined;
  const navigatorShim = { hardwareConcurrency: threads };

  const globals = globalThis as Record<string, unknown>;
  const saved = { self: globals.self, importScripts: globals.importScripts, Module: globals.Module };
  globals.self = globalThis;
  globals.importScripts = (url: string) => {
    const source = readFileSync(url, 'utf8');
    const wrapped = runInThisContext(
      `(function (require, __dirname, __filename, navigator) {${source}\nreturn ModuleFactory;\n})`,
      { filename: url },
    ) as (req: NodeJS.Require, dir: string, file: string, nav: object) => unknown;
    globals.ModuleFactory = wrapped(require, wasmDir, workerScript ?? url, navigatorShim);
  };
  // Emscripten reads its print hooks from `self.Module` when the factory runs.
  globals.Module = { print: engineLog, printErr: engineLog };

  // LiteRT tries WebGPU first; in Node that fails with a harmless warning and a stack trace.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('WebGPU')) return;
    warn(...args);
  };
  try {
    const liteRt = await core.loadLiteRt(`${wasmDir}/`, threads > 1 ? { threads: true } : undefined);
    return { core, liteRt, threads, loadMs: performance.now() - started };
  } catch (cause) {
    core.unloadLiteRt();
    throw new ModelLoadError(
      `could not start the LiteRT WebAssembly runtime from ${wasmDir}: ${String(cause)}. Fix: npm install @litertjs/core (or point TFLITE_FN_LITERT_WASM_DIR at its wasm/ folder)`,
      { cause },
    );
  } finally {
    console.warn = warn;
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete globals[key];
      else globals[key] = value;
    }
    delete globals.ModuleFactory;
  }
}
