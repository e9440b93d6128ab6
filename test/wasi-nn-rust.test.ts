import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildRustBirdsGuest, haveRustWasm } from './guests/build.js';
import { SHARED_MODELS } from './helpers.js';

if (!haveRustWasm() && process.env.CI)
  throw new Error('rustc for wasm32-wasi is missing: .ci/run installs it');
const skip = haveRustWasm() ? false : 'rustc / libstd-rust-dev-wasm32 not installed';

/** The wasi_ephemeral_nn functions the birds program calls through the wasi-nn 0.6 API. */
const BIRDS_NN_CALLS = ['compute', 'get_output', 'init_execution_context', 'load', 'set_input'];

describe('WasmEdge tflite-birds_v1-image, in Rust over our wasi-nn 0.6 stand-in', { skip }, () => {
  let program: Uint8Array;
  before(() => {
    program = readFileSync(buildRustBirdsGuest(join(SHARED_MODELS, 'aiy_birds_V1_labelmap.txt')));
  });

  it('builds from source and imports only WASI and the wasi_ephemeral_nn functions it calls', () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(program));
    const modules = new Set(imports.map((entry) => entry.module));
    assert.deepEqual([...modules].sort(), ['wasi_ephemeral_nn', 'wasi_snapshot_preview1']);
    const nn = imports.filter((entry) => entry.module === 'wasi_ephemeral_nn');
    assert.deepEqual(nn.map((entry) => entry.name).sort(), BIRDS_NN_CALLS);
    assert.ok(nn.every((entry) => entry.kind === 'function'));
  });
});
