import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { encodeOnnxModel, OnnxDataType } from '../src/convert/onnx-writer.js';
import { readOnnx } from '../src/convert/store.js';
import { createApp } from '../src/http/app.js';
import { classify as classifyHere } from '../src/index.js';
import { parseNnPreload } from '../src/wasm/nn-preload.js';
import { runWasm } from '../src/wasm/sandbox.js';
import { NN_ERRNO } from '../src/wasm/wasi-nn.js';
import { buildGuest, haveClang } from './guests/build.js';
import { CLI, photo, SHARED_MODELS } from './helpers.js';

if (!haveClang() && process.env.CI) throw new Error('clang and wasi-libc are missing: .ci/run installs them');
const skip = haveClang() ? false : 'clang / wasi-libc not installed (apt-get install clang lld wasi-libc)';

const MODEL = '/models/mobilenet_v1_0.25_128_quant.tflite';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** TensorProto.DataType values the converter never writes (onnx.proto). */
const FLOAT16 = 10 as OnnxDataType;
const DOUBLE = 11 as OnnxDataType;

/**
 * An ONNX model whose inputs leave their batch dimension open, one per element type WASI-NN
 * adds over the TFLite engines: y = x * 2 (f32), m = n + 1 (i64), hy = h (f16), dy = -d (f64).
 */
function dynamicBatchOnnx(): Uint8Array {
  const scalar = (name: string, dataType: OnnxDataType, raw: Uint8Array) => ({
    name,
    dataType,
    dims: [],
    raw,
  });
  const io = (name: string, dataType: OnnxDataType, width: number) => ({
    name,
    dataType,
    shape: ['batch', width],
  });
  return encodeOnnxModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 'tflite-fn test',
    producerVersion: '1',
    graph: {
      name: 'dynamic-batch',
      nodes: [
        { opType: 'Mul', inputs: ['x', 'two'], outputs: ['y'] },
        { opType: 'Add', inputs: ['n', 'one'], outputs: ['m'] },
        { opType: 'Identity', inputs: ['h'], outputs: ['hy'] },
        { opType: 'Neg', inputs: ['d'], outputs: ['dy'] },
      ],
      initializers: [
        scalar('two', OnnxDataType.FLOAT, new Uint8Array(new Float32Array([2]).buffer)),
        scalar('one', OnnxDataType.INT64, new Uint8Array(new BigInt64Array([1n]).buffer)),
      ],
      inputs: [
        io('x', OnnxDataType.FLOAT, 3),
        io('n', OnnxDataType.INT64, 2),
        io('h', FLOAT16, 2),
        io('d', DOUBLE, 1),
      ],
      outputs: [
        io('y', OnnxDataType.FLOAT, 3),
        io('m', OnnxDataType.INT64, 2),
        io('hy', FLOAT16, 2),
        io('dy', DOUBLE, 1),
      ],
    },
  });
}

/** The guest's `name=value` lines, by name. */
function reported(stdout: Uint8Array): Map<string, string> {
  return new Map(
    text(stdout)
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('wasi_ephemeral_nn (WASI-NN as WasmEdge implements it)', { skip }, () => {
  let guest: Uint8Array;
  let input = '';
  let referenceLabel = '';
  before(async () => {
    guest = readFileSync(buildGuest('wasi-nn'));
    input = mkdtempSync(join(tmpdir(), 'tflite-fn-wasi-nn-'));
    // Stretched to the model's 128x128, as WasmEdge's image loaders do.
    const pixels = await sharp(photo('grace_hopper.jpg'))
      .resize(128, 128, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer();
    writeFileSync(join(input, 'grace_hopper.rgb'), pixels);
    // The default model's ONNX conversion (set-up made and verified it), for the onnx runs.
    const tflite = readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'));
    writeFileSync(join(input, 'model.onnx'), readOnnx(createHash('sha256').update(tflite).digest('hex')));
    writeFileSync(join(input, 'dynamic.onnx'), dynamicBatchOnnx());
    // What the built-in classify() says of the same stretched photo: every run must agree.
    referenceLabel = (
      await classifyHere(photo('grace_hopper.jpg'), { model: 'imagenet-small', resize: 'fill' })
    ).label;
  });

  const dirs = () => [
    { guest: '/models', host: SHARED_MODELS, readOnly: true },
    { guest: '/in', host: input, readOnly: true },
  ];

  it('runs a model through every call and prints the top label of grace_hopper.jpg', async () => {
    const result = await runWasm(guest, {
      args: ['wasi-nn.wasm', 'classify', MODEL, '/in/grace_hopper.rgb', '/models/imagenet_labels.txt'],
      dirs: dirs(),
    });
    assert.equal(result.exitCode, 0, text(result.stderr));
    const lines = reported(result.stdout);
    assert.equal(lines.get('top'), referenceLabel);
    const expected: Record<string, number> = {
      load: 0,
      init_execution_context: 0,
      set_input: 0,
      compute: 0,
      get_output: 0,
      compute_single: 0,
      get_output_single: 0,
      same_top: 1,
      fini_single: 0,
      finalize_execution_context: 0,
      compute_after_finalize: NN_ERRNO.INVALID_ARGUMENT,
      unload: 0,
      init_after_unload: NN_ERRNO.INVALID_ARGUMENT,
      autodetect: 0,
      load_by_name: NN_ERRNO.NOT_FOUND,
      load_by_name_with_config: NN_ERRNO.NOT_FOUND,
    };
    for (const [name, errno] of Object.entries(expected)) assert.equal(lines.get(name), String(errno), name);
    assert.equal(lines.get('written'), '1001');
    assert.deepEqual(result.engines.length, 2, 'load and autodetect each compiled (or found) the model');
  });

  it("refuses a program's own ONNX bytes unless the operator allows them (they would run natively)", async () => {
    const result = await runWasm(guest, {
      args: ['wasi-nn.wasm', 'onnx', '/in/model.onnx', '/in/grace_hopper.rgb', '/models/imagenet_labels.txt'],
      dirs: dirs(),
    });
    const lines = reported(result.stdout);
    assert.equal(lines.get('load'), String(NN_ERRNO.INVALID_ENCODING));
    assert.match(
      text(result.stderr),
      /encoding onnx from the program itself is off.*TFLITE_FN_NN_GUEST_ONNX=1/,
    );
    assert.deepEqual(result.engines, [], 'nothing was compiled');
  });

  it('runs an ONNX model (our conversion of the default model) on onnxruntime', async () => {
    const result = await runWasm(guest, {
      args: ['wasi-nn.wasm', 'onnx', '/in/model.onnx', '/in/grace_hopper.rgb', '/models/imagenet_labels.txt'],
      dirs: dirs(),
      nnGuestOnnx: true,
    });
    assert.equal(result.exitCode, 0, text(result.stderr));
    const lines = reported(result.stdout);
    assert.equal(lines.get('top'), referenceLabel);
    const expected: Record<string, number> = {
      // ONNX has no magic number to detect it by.
      autodetect: NN_ERRNO.INVALID_ENCODING,
      load: 0,
      init_execution_context: 0,
      wrong_type: NN_ERRNO.INVALID_ARGUMENT,
      set_input: 0,
      compute: 0,
      get_output: 0,
      written: 1001,
    };
    for (const [name, errno] of Object.entries(expected)) assert.equal(lines.get(name), String(errno), name);
    assert.match(
      text(result.stderr),
      /autodetect: .*ONNX has no magic number to detect: load it with encoding onnx \(1\)/,
    );
    assert.deepEqual(result.engines, ['ort']);
  });

  it('loads by name the models preloaded as with wasmedge --nn-preload, once per name', async () => {
    const result = await runWasm(guest, {
      args: ['wasi-nn.wasm', 'by-name', '/in/grace_hopper.rgb', '/models/imagenet_labels.txt'],
      dirs: dirs(),
      nnPreload: [
        parseNnPreload(
          `default:TensorflowLite:CPU:${join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite')}`,
        ),
      ],
    });
    assert.equal(result.exitCode, 0, text(result.stderr));
    const lines = reported(result.stdout);
    const expected: Record<string, number> = {
      missing: NN_ERRNO.NOT_FOUND,
      load_by_name: 0,
      load_by_name_with_config: 0,
      same_graph: 1,
      init_execution_context: 0,
      set_input: 0,
      compute: 0,
      get_output: 0,
    };
    for (const [name, errno] of Object.entries(expected)) assert.equal(lines.get(name), String(errno), name);
    assert.equal(lines.get('top'), referenceLabel);
    assert.match(
      text(result.stderr),
      /no model preloaded as 'missing' \(--nn-preload; preloaded: 'default'\)/,
    );
  });

  it("tflite-fn run --nn-preload takes WasmEdge's NAME:ENCODING:TARGET:PATH and refuses what it cannot run", async () => {
    const model = join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite');
    const wasm = join(input, 'wasi-nn.wasm');
    writeFileSync(wasm, guest);
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'run', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const ok = run(
      '--nn-preload',
      `default:TensorflowLite:CPU:${model}`,
      '--dir',
      `/in:${input}:ro`,
      '--dir',
      `/models:${SHARED_MODELS}:ro`,
      wasm,
      'by-name',
      '/in/grace_hopper.rgb',
      '/models/imagenet_labels.txt',
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^top=\S/m);
    for (const [spec, why] of [
      [`default:TensorflowLite:GPU:${model}`, "target 'GPU': only CPU is supported"],
      [`default:GGML:AUTO:${model}`, "encoding 'GGML' is not one of"],
      [`default:Autodetect:CPU:${join(SHARED_MODELS, 'imagenet_labels.txt')}`, 'not a TensorFlow Lite model'],
      [
        `default:Autodetect:CPU:${join(input, 'model.onnx')}`,
        'ONNX has no magic number to detect: preload it as NAME:ONNX:CPU:PATH',
      ],
      ['default:TensorflowLite:CPU:', 'a part is missing'],
      [`default:TensorflowLite:CPU:${join(input, 'absent.tflite')}`, 'cannot read'],
    ] as const) {
      const refused = run('--nn-preload', spec, wasm, 'by-name', 'x', 'y');
      assert.notEqual(refused.status, 0, spec);
      assert.ok(refused.stderr.includes(why), `${spec}: ${refused.stderr}`);
      assert.ok(!refused.stdout.includes('top='), spec);
    }
  });

  it('a deployment serving the program preloads its models from TFLITE_FN_NN_PRELOAD (createApp nnPreload)', async () => {
    const program = join(input, 'deployed.wasm');
    writeFileSync(program, guest);
    const model = join(input, 'preloaded.tflite');
    writeFileSync(model, readFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite')));
    const app = createApp({ program, nnPreload: [`default:TensorflowLite:CPU:${model}`] });
    const body = readFileSync(join(input, 'grace_hopper.rgb'));
    const response = await app.request('/classify', { method: 'POST', body });
    const answer = await response.text();
    assert.equal(response.status, 200, answer);
    const labels = readFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), 'utf8').split('\n');
    assert.equal(answer, `class=${labels.indexOf(referenceLabel)}\n`);
    // A preload that went missing after start-up is the deployment's fault: 500, not 400.
    rmSync(model);
    const missing = await app.request('/classify', { method: 'POST', body });
    assert.equal(missing.status, 500);
    assert.match(await missing.text(), /program_missing/);
    // A wrong preload fails at start-up, naming the flag's syntax.
    assert.throws(
      () => createApp({ program, nnPreload: ['default:GGML:AUTO:model.gguf'] }),
      /--nn-preload takes NAME:ENCODING:TARGET:PATH/,
    );
  });

  it('answers every error with the errno WasmEdge uses, says why, and keeps working', async () => {
    // Guest ONNX allowed, so onnxruntime's own refusal of a non-model is checked too.
    const result = await runWasm(guest, {
      args: ['wasi-nn.wasm', 'errors', MODEL],
      dirs: dirs(),
      nnGuestOnnx: true,
    });
    assert.equal(result.exitCode, 0, text(result.stderr));
    const { INVALID_ARGUMENT, INVALID_ENCODING, TOO_LARGE } = NN_ERRNO;
    const expected: Record<string, number> = {
      encoding_tensorflow: INVALID_ENCODING,
      encoding_ggml: INVALID_ENCODING,
      encoding_unknown: INVALID_ENCODING,
      autodetect_not_tflite: INVALID_ENCODING,
      target_gpu: INVALID_ARGUMENT,
      two_builders: INVALID_ARGUMENT,
      not_a_model: INVALID_ARGUMENT,
      onnx_not_a_model: INVALID_ARGUMENT,
      builders_wild: INVALID_ARGUMENT,
      builders_count_huge: INVALID_ARGUMENT,
      builder_data_wild: INVALID_ARGUMENT,
      graph_out_wild: INVALID_ARGUMENT,
      bad_graph: INVALID_ARGUMENT,
      bad_context_set_input: INVALID_ARGUMENT,
      bad_context_compute: INVALID_ARGUMENT,
      bad_context_get_output: INVALID_ARGUMENT,
      bad_context_fini_single: INVALID_ARGUMENT,
      bad_context_finalize: INVALID_ARGUMENT,
      bad_graph_unload: INVALID_ARGUMENT,
      load: 0,
      context_out_wild: INVALID_ARGUMENT,
      init_execution_context: 0,
      compute_without_input: INVALID_ARGUMENT,
      wrong_type: INVALID_ARGUMENT,
      unknown_type: INVALID_ARGUMENT,
      f16_type: INVALID_ARGUMENT,
      i64_type: INVALID_ARGUMENT,
      old_witx_u8: INVALID_ARGUMENT,
      wrong_rank: INVALID_ARGUMENT,
      wrong_dims: INVALID_ARGUMENT,
      wrong_bytes: INVALID_ARGUMENT,
      wrong_index: INVALID_ARGUMENT,
      tensor_wild: INVALID_ARGUMENT,
      dims_wild: INVALID_ARGUMENT,
      rank_huge: INVALID_ARGUMENT,
      data_wild: INVALID_ARGUMENT,
      get_output_before_compute: INVALID_ARGUMENT,
      set_input: 0,
      compute: 0,
      small_buffer: TOO_LARGE,
      // As WasmEdge's TFLite backend: the size needed is written, so a program can grow its buffer.
      small_buffer_written: 1001,
      output_index: INVALID_ARGUMENT,
      output_wild: INVALID_ARGUMENT,
      written_wild: INVALID_ARGUMENT,
      name_wild: INVALID_ARGUMENT,
      get_output: 0,
      written: 1001,
    };
    const lines = reported(result.stdout);
    for (const [name, errno] of Object.entries(expected)) assert.equal(lines.get(name), String(errno), name);
    const stderr = text(result.stderr);
    // Each refusal says why, in terms of the model, on the guest's stderr.
    for (const why of [
      'encoding tensorflow is not supported',
      "onnxruntime could not load the program's ONNX model",
      'target gpu: only cpu is supported',
      'no graph 4242',
      'no execution context 4242',
      'input 0 is u8 [1, 128, 128, 3]; got type f32',
      'unknown tensor type 9',
      'input 0 is u8 [1, 128, 128, 3]; got type f16',
      'input 0 is u8 [1, 128, 128, 3]; got type i64',
      // A program numbering types as the older witx did is told so.
      'got type f64 (2 was u8 in the older witx numbering, wasi-nn < 0.6; it is 3 in wasi-nn 0.6 and WasmEdge 0.14+)',
      'input 0 is u8 [1, 128, 128, 3]; got rank 3',
      'got dimension 1 = 224',
      'got 49151 bytes',
      'the buffer holds 1000',
      'bad pointer',
    ])
      assert.ok(stderr.includes(why), `stderr says '${why}':\n${stderr}`);
    assert.ok(!stderr.includes(SHARED_MODELS) && !/\n\s+at /.test(stderr), 'no host paths or stack traces');
  });

  it('runs an ONNX model with an open batch dimension at the sizes the program gives, f16/f64/i64 included, and refuses wrong or hostile shapes', async () => {
    const result = await runWasm(guest, {
      args: ['wasi-nn.wasm', 'dynamic', '/in/dynamic.onnx'],
      dirs: dirs(),
      nnGuestOnnx: true,
    });
    assert.equal(result.exitCode, 0, text(result.stderr));
    const lines = reported(result.stdout);
    const { INVALID_ARGUMENT, TOO_LARGE } = NN_ERRNO;
    const expected: Record<string, number | string> = {
      load: 0,
      init_execution_context: 0,
      set_x: 0,
      set_n: 0,
      set_h: 0,
      set_d: 0,
      compute: 0,
      get_y: 0,
      get_m: 0,
      get_hy: 0,
      get_dy: 0,
      // Batch 2: outputs sized by the run.
      y_written: 24,
      m_written: 32,
      hy_written: 8,
      dy_written: 16,
      y: '2,4,6,8,10,12',
      m: '11,21,-29,5000000001',
      hy: '3c00,4000,c200,0001',
      dy: '-1.5,2.25',
      small_buffer: TOO_LARGE,
      small_written: 24,
      // Batch 3 on the same context.
      set_x3: 0,
      set_n3: 0,
      set_h3: 0,
      set_d3: 0,
      compute3: 0,
      y3_written: 36,
      m3_written: 48,
      hy3_written: 12,
      dy3_written: 24,
      dyn_rank: INVALID_ARGUMENT,
      dyn_fixed_dim: INVALID_ARGUMENT,
      dyn_zero: INVALID_ARGUMENT,
      dyn_bytes: INVALID_ARGUMENT,
      dyn_huge: TOO_LARGE,
      dyn_widest: TOO_LARGE,
      dyn_f16: INVALID_ARGUMENT,
      dyn_i64: INVALID_ARGUMENT,
      dyn_f32_for_i64: INVALID_ARGUMENT,
      dyn_dims_wild: INVALID_ARGUMENT,
      dyn_dims_past_end: INVALID_ARGUMENT,
      dyn_data_past_end: INVALID_ARGUMENT,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(lines.get(name), String(value), name);
    assert.deepEqual(result.engines, ['ort']);
    const stderr = text(result.stderr);
    for (const why of [
      'input 0 is f32 [?, 3]; got rank 1',
      'input 0 is f32 [?, 3]; got dimension 1 = 4',
      'got dimension 0 = 0 (an open dimension is at least 1)',
      'dimensions [2, 3] make 24 bytes, got 20',
      'dimensions [3000000, 3] make more than 33554432 bytes (TFLITE_FN_MAX_BYTES)',
      'dimensions [4294967295, 3] make more than',
      'input 0 is f32 [?, 3]; got type f16',
      'input 0 is f32 [?, 3]; got type i64',
      'input 1 is i64 [?, 2]; got type f32',
      'bad pointer',
    ])
      assert.ok(stderr.includes(why), `stderr says '${why}':\n${stderr}`);
  });
});
