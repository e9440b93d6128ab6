import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLASSIC_GRACE_HOPPER, CLI, IMAGES, photo } from './helpers.js';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI in a new process, as a user's shell would. */
function run(args: readonly string[], stdin?: Uint8Array): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
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
});
