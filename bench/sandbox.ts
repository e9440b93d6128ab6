/**
 * Sandbox figures (issue #6), with the C test guest (a WasmEdge-style classifier embedding
 * mobilenet_v1_0.25_128): warm run against the built-in classify() of the same model, and a
 * first run in a fresh process (`tflite-fn run`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../src/classify.js';
import type { ModelCatalog } from '../src/model/catalog.js';
import { packageRoot } from '../src/store/paths.js';
import { runWasm } from '../src/wasm/sandbox.js';
import { buildGuest, haveClang } from '../test/guests/build.js';
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
  if (!haveClang()) return { skipped: 'clang / wasi-libc not installed' };
  const models = join(packageRoot(), '..', 'shared', 'models');
  const wasm = buildGuest('classify', {
    model: join(models, 'mobilenet_v1_0.25_128_quant.tflite'),
    labels: join(models, 'imagenet_labels.txt'),
  });
  const program = readFileSync(wasm);
  for (let i = 0; i < 3; i++) {
    await runWasm(program, { stdin: photo });
    await classify(photo, { model: 'imagenet-small', resize: 'fill', catalog });
  }
  const guest: number[] = [];
  const builtin: number[] = [];
  for (let i = 0; i < iterations; i++) {
    let started = performance.now();
    await runWasm(program, { stdin: photo });
    guest.push(performance.now() - started);
    started = performance.now();
    await classify(photo, { model: 'imagenet-small', resize: 'fill', catalog });
    builtin.push(performance.now() - started);
  }
  const first: number[] = [];
  for (let i = 0; i < 3; i++) first.push(await firstRun(wasm, photo));
  return {
    guest: 'C, WasmEdge 0.2 ABI, mobilenet_v1_0.25_128 embedded',
    warmGuestMs: round(median(guest)),
    warmBuiltinMs: round(median(builtin)),
    ratio: round(median(guest) / median(builtin), 2),
    firstRunMs: round(median(first)),
  };
}
