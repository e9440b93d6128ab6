/**
 * Sandbox figures (issue #6), with the Rust test guest (the WasmEdge classic, embedding the
 * `imagenet` model): warm run against the built-in classify() of the same model stretched the
 * same way, and a first run in a fresh process (`tflite-fn run`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../src/classify.js';
import type { ModelCatalog } from '../src/model/catalog.js';
import { packageRoot, sharedDataDir } from '../src/store/paths.js';
import { runWasm } from '../src/wasm/sandbox.js';
import { buildRustGuest, haveRustWasm } from '../test/guests/build.js';
import { median, round } from './stats.js';

function firstRun(wasm: string, photo: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [join(packageRoot(), 'dist', 'handlers', 'cli', 'main.js'), 'run', wasm],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let answered = 0;
    child.stdout.on('data', () => {
      answered ||= performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(answered) : reject(new Error(`tflite-fn run exited ${code}`)),
    );
    child.stdin.end(photo);
  });
}

export async function sandbox(photo: Buffer, catalog: ModelCatalog, iterations: number) {
  if (!haveRustWasm()) return { skipped: 'Debian rustc with wasm32-wasi not installed' };
  const models = join(sharedDataDir(), 'models');
  const wasm = buildRustGuest(
    join(models, 'mobilenet_v2_1.0_224_quant.tflite'),
    join(models, 'imagenet_labels.txt'),
  );
  const program = readFileSync(wasm);
  for (let i = 0; i < 3; i++) {
    await runWasm(program, { stdin: photo });
    await classify(photo, { model: 'imagenet', resize: 'fill', catalog });
  }
  const guest: number[] = [];
  const builtin: number[] = [];
  for (let i = 0; i < iterations; i++) {
    let started = performance.now();
    await runWasm(program, { stdin: photo });
    guest.push(performance.now() - started);
    started = performance.now();
    await classify(photo, { model: 'imagenet', resize: 'fill', catalog });
    builtin.push(performance.now() - started);
  }
  const first: number[] = [];
  for (let i = 0; i < 3; i++) first.push(await firstRun(wasm, photo));
  return {
    guest: 'Rust, WasmEdge 0.2 ABI, mobilenet_v2_1.0_224 embedded',
    warmGuestMs: round(median(guest)),
    warmBuiltinMs: round(median(builtin)),
    ratio: round(median(guest) / median(builtin), 2),
    firstRunMs: round(median(first)),
  };
}
