/**
 * Loads LiteRT.js (TensorFlow Lite compiled to WebAssembly) inside Node.
 *
 * LiteRT.js is written for browsers: its loader runs the Emscripten glue with
 * `importScripts()` (a web worker) or a <script> tag, then reads `self.ModuleFactory`. This
 * module is the only place that knows that. It provides those two globals for the duration
 * of the load and removes them afterwards, so the process keeps no browser look-alikes that
 * could fool other libraries. The glue itself takes its Node path and wants `require` and
 * `__dirname`, which ESM does not have in scope: we hand them in through a function wrapper.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import type * as LiteRtCore from '@litertjs/core';
import { ModelLoadError } from '../errors.js';

export type LiteRtModule = typeof LiteRtCore;
export type LiteRt = Awaited<ReturnType<LiteRtModule['loadLiteRt']>>;

export interface LiteRtRuntime {
  readonly core: LiteRtModule;
  readonly liteRt: LiteRt;
  /** Milliseconds spent loading the wasm runtime, for timings and the benchmark. */
  readonly loadMs: number;
}

const require = createRequire(import.meta.url);
let runtime: Promise<LiteRtRuntime> | undefined;

/**
 * The folder holding LiteRT's `.wasm` and glue `.js` files. A Lambda layer or a bundler may
 * put them elsewhere: `TFLITE_FN_LITERT_WASM_DIR` points at that folder.
 */
export function liteRtWasmDir(): string {
  const override = process.env.TFLITE_FN_LITERT_WASM_DIR;
  if (override) return override;
  return join(dirname(require.resolve('@litertjs/core/package.json')), 'wasm');
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
  if (process.env.TFLITE_FN_DEBUG) process.stderr.write(`[litert] ${line}\n`);
}

async function loadOnce(): Promise<LiteRtRuntime> {
  const started = performance.now();
  const wasmDir = liteRtWasmDir();
  let core: LiteRtModule;
  try {
    core = await import('@litertjs/core');
  } catch (cause) {
    throw new ModelLoadError(
      `could not load the LiteRT.js package (@litertjs/core); tried to import it from ${process.cwd()}. Fix: npm install @litertjs/core`,
      { cause },
    );
  }

  const globals = globalThis as Record<string, unknown>;
  const saved = { self: globals.self, importScripts: globals.importScripts, Module: globals.Module };
  globals.self = globalThis;
  globals.importScripts = (url: string) => {
    const source = readFileSync(url, 'utf8');
    const wrapped = runInThisContext(
      `(function (require, __dirname, __filename) {${source}\nreturn ModuleFactory;\n})`,
      {
        filename: url,
      },
    ) as (req: NodeJS.Require, dir: string, file: string) => unknown;
    globals.ModuleFactory = wrapped(require, wasmDir, url);
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
    const liteRt = await core.loadLiteRt(`${wasmDir}/`);
    return { core, liteRt, loadMs: performance.now() - started };
  } catch (cause) {
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
