import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildGuest, haveClang } from './guests/build.js';
import { CLASSIC_GRACE_HOPPER, CLI, IMAGES, photo, SHARED_MODELS } from './helpers.js';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  /** stdout as bytes, for binary output (an annotated JPEG). */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** Runs the real CLI in a new process, as a user's shell would. */
function run(args: readonly string[], stdin?: Uint8Array, env: Record<string, string> = {}): Promise<Run> {
  return runCommand([process.execPath, CLI, ...args], stdin, env);
}

function runCommand(
  command: readonly string[],
  stdin?: Uint8Array,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ status, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

/**
 * Runs the CLI with its stdout on a real pipe (`tflite-fn ... | cat`, as in a shell) whose
 * reader starts late, like a slow consumer: what does not fit the pipe's 64 KB buffer is still
 * in the CLI's hands when it has finished. (Node's own 'pipe' stdio is a socket pair with a
 * bigger buffer, which would hide a lost tail.)
 */
async function runIntoPipe(args: readonly string[], stdin?: Uint8Array): Promise<Run> {
  const statusFile = join(mkdtempSync(join(tmpdir(), 'tflite-fn-pipe-')), 'status');
  const script = '{ "$@"; echo $? > "$STATUS_FILE"; } | { sleep 1; exec cat; }';
  const result = await runCommand(['/bin/sh', '-c', script, 'sh', process.execPath, CLI, ...args], stdin, {
    STATUS_FILE: statusFile,
  });
  return { ...result, status: Number(readFileSync(statusFile, 'utf8')) };
}

const grace = join(IMAGES, 'grace_hopper.jpg');

describe('tflite-fn CLI', () => {
  it('`tflite-fn < grace_hopper.jpg` prints exactly what WasmEdge prints, and nothing else', async () => {
    const result = await run([], photo('grace_hopper.jpg'));
    assert.equal(result.status, 0);
    assert.equal(result.stdout, `${CLASSIC_GRACE_HOPPER}\n`);
    assert.equal(result.stderr, '', 'no LiteRT INFO or WebGPU noise');
  });

  it('classify FILE --json prints one JSON object', async () => {
    const result = await run(['classify', grace, '--json', '--top', '3']);
    assert.equal(result.status, 0);
    const json = JSON.parse(result.stdout) as { label: string; top: unknown[]; model: string };
    assert.equal(json.label, 'military uniform');
    assert.equal(json.top.length, 3);
    assert.equal(json.model, 'imagenet');
  });

  it('classify several files (and - for stdin) prints one line each', async () => {
    const result = await run(
      ['classify', grace, '-', '--model', 'imagenet', '-f', 'sentence'],
      photo('parrot.jpg'),
    );
    assert.equal(result.status, 0);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^.*grace_hopper\.jpg: It is likely a .*military uniform/);
    assert.match(lines[1] ?? '', /^-: It is very likely a .*macaw/);
  });

  it('--format text and another model', async () => {
    const result = await run([
      'classify',
      join(IMAGES, 'ladybug.jpg'),
      '-m',
      'insects',
      '-f',
      'text',
      '-k',
      '2',
    ]);
    assert.equal(result.status, 0);
    assert.match(
      result.stdout,
      /^0\.\d{4} {2}Coccinella septempunctata \(Seven-spotted Ladybird\)\n0\.\d{4} {2}/,
    );
  });

  it('exits 1 with a one-line message for input that is not an image', async () => {
    const result = await run([], Buffer.from('hello, I am text\n'));
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
    assert.match(result.stderr, /^tflite-fn: stdin: the data is not an image/);
  });

  it('exits 1 for empty stdin, a missing file and an unknown model; keeps going over other files', async () => {
    assert.match((await run([])).stderr, /no image was sent/);
    const missing = await run(['classify', '/nonexistent.jpg', grace]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read \/nonexistent\.jpg: no such file/);
    assert.match(missing.stdout, /military uniform/, 'the good file is still classified');
    const unknown = await run(['classify', grace, '--model', 'nope']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /unknown model 'nope'/);
  });

  it('exits 2 for usage errors', async () => {
    assert.equal((await run(['frobnicate'])).status, 2);
    assert.equal((await run(['classify', grace, '--top', 'many'])).status, 2);
    assert.equal((await run(['classify', grace, '--no-such-flag'])).status, 2);
    assert.equal((await run(['classify', grace, '--format', 'xml'])).status, 2);
  });

  it('--help and models', async () => {
    const help = await run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /tflite-fn classify FILE/);
    assert.match((await run(['classify', '--help'])).stdout, /--resize MODE/);
    const models = await run(['models', '--json']);
    assert.equal(models.status, 0);
    const rows = JSON.parse(models.stdout) as { id: string; default: boolean; model: { present: boolean } }[];
    const imagenet = rows.find((row) => row.id === 'imagenet');
    assert.ok(imagenet?.default);
    assert.ok(imagenet?.model.present);
    assert.match((await run(['models'])).stdout, /imagenet \(default\)/);
  });

  it('--engine, and the engine each model runs on in tflite-fn models', async () => {
    const ort = JSON.parse((await run(['classify', grace, '--json'])).stdout) as {
      engine: string;
      label: string;
    };
    const litert = await run(['classify', grace, '--json', '--engine', 'litert']);
    assert.equal(ort.engine, 'ort');
    assert.equal((JSON.parse(litert.stdout) as { engine: string }).engine, 'litert');
    assert.equal((await run(['classify', grace, '--engine', 'gpu'])).status, 2);
    const rows = JSON.parse((await run(['models', '--json'])).stdout) as {
      id: string;
      engine: { name: string; reason: string };
      conversion: { ok: boolean; ops: string[] };
    }[];
    const imagenet = rows.find((row) => row.id === 'imagenet');
    assert.equal(imagenet?.engine.name, 'ort');
    assert.match(imagenet?.engine.reason ?? '', /verified on 20 photos/);
    assert.ok(imagenet?.conversion.ops.includes('CONV_2D'));
    assert.match((await run(['models'])).stdout, /engine ort: verified on 20 photos/);
  });

  it('convert: a model id is verified; a .tflite file is converted; a missing file or an unsupported op fails clearly', async () => {
    const verified = await run(['convert', 'imagenet-small']);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /imagenet-small: converted and verified\n {2}verified on 20 photos/);
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-convert-'));
    const file = await run([
      'convert',
      join(SHARED_MODELS, 'mobilenet_v1_0.75_192_quant.tflite'),
      '--out',
      join(dir, 'm.onnx'),
      '--json',
    ]);
    assert.equal(file.status, 0, file.stderr);
    const summary = JSON.parse(file.stdout) as {
      bytes: number;
      verified: boolean;
      inputs: { shape: number[] }[];
    };
    assert.ok(summary.bytes > 1_000_000);
    assert.equal(summary.verified, false);
    assert.deepEqual(summary.inputs[0]?.shape, [1, 192, 192, 3]);
    const missing = await run(['convert', join(dir, 'gone.tflite')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /gone\.tflite does not exist/);
    const unsupported = await run([
      'convert',
      join(SHARED_MODELS, 'movenet_single_pose_lightning_ptq.tflite'),
      '--out',
      join(dir, 'x.onnx'),
    ]);
    assert.equal(unsupported.status, 1);
    assert.match(unsupported.stderr, /unsupported TFLite op CAST \(operator 0 of subgraph 0\)/);
    assert.doesNotMatch(unsupported.stderr, /\n\s+at /);
  });

  it('runs a user model from a folder named by --models-dir or TFLITE_FN_MODELS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-user-'));
    copyFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'), join(dir, 'tiny.tflite'));
    copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(dir, 'labels.txt'));
    writeFileSync(
      join(dir, 'parrots.yaml'),
      'model: { file: tiny.tflite }\ninput: { width: 128, height: 128 }\noutput: { labels: { file: labels.txt }, top_k: 2 }\n',
    );
    const parrot = join(IMAGES, 'parrot.jpg');
    const byFlag = await run(['classify', parrot, '--models-dir', dir, '-m', 'parrots', '--json']);
    assert.equal(byFlag.status, 0, byFlag.stderr);
    const json = JSON.parse(byFlag.stdout) as { model: string; label: string; top: unknown[] };
    assert.deepEqual([json.model, json.label, json.top.length], ['parrots', 'macaw', 2]);
    const byEnv = await run(['classify', parrot, '-m', 'parrots', '-f', 'text'], undefined, {
      TFLITE_FN_MODELS: dir,
    });
    assert.equal(byEnv.status, 0, byEnv.stderr);
    assert.match(byEnv.stdout, /^0\.\d{4} {2}macaw\n/);
    assert.match((await run(['models'], undefined, { TFLITE_FN_MODELS: dir })).stdout, /parrots/);
  });

  it('gives the same scores on one inference thread and on two', async () => {
    const scores = async (threads: string) => {
      const result = await run(['classify', grace, '--json', '-k', '10'], undefined, {
        TFLITE_FN_THREADS: threads,
      });
      assert.equal(result.status, 0, result.stderr);
      return (JSON.parse(result.stdout) as { top: unknown }).top;
    };
    assert.deepEqual(await scores('2'), await scores('1'));
  });
});

describe('output to a pipe is complete (more than a pipe buffer of 64 KB)', () => {
  it('detect < photo | ...: the whole annotated JPEG, byte for byte what --out writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-pipe-'));
    const toFile = await run(['detect', '--out', join(dir, 'boxed.jpg')], photo('solvay.jpg'));
    assert.equal(toFile.status, 0, toFile.stderr);
    const expected = readFileSync(join(dir, 'boxed.jpg'));
    assert.ok(expected.length > 128 * 1024, 'big enough to overflow a pipe buffer');
    const piped = await runIntoPipe(['detect'], photo('solvay.jpg'));
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdoutBytes.length, expected.length);
    assert.ok(piped.stdoutBytes.equals(expected));
  });

  it('run program.wasm | ...: all of the program output up to the sandbox cap', {
    skip: haveClang() ? false : 'clang with wasi-libc not installed',
  }, async () => {
    const hostile = buildGuest('hostile');
    const result = await runIntoPipe(['run', hostile, 'stdout']);
    assert.equal(result.status, 0, result.stderr);
    // The guest writes 6.5 MB of 65-byte lines; the sandbox keeps the first 1 MB.
    assert.equal(result.stdoutBytes.length, 1024 * 1024);
    assert.match(result.stderr, /more than 1 MB/);
  });
});
