/**
 * Builds the C test guests for wasm32-wasi with Debian's clang and wasi-libc (installed by
 * .ci/run). The embedded model and labels become C arrays here, at build time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/store/paths.js';

const SOURCES = join(packageRoot(), 'test', 'guests');
const OUT = join(packageRoot(), 'build', 'guests');

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
  name: 'classify' | 'hostile',
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
