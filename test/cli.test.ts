import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { offersOf } from '../src/http/negotiate.js';
import { TASKS } from '../src/tasks/index.js';
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
    // A CLI that does not read its stdin closes it: that is its business, not a test failure.
    child.stdin.on('error', () => undefined);
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
    const unknown = await run(['classify', grace, grace, grace, '--model', 'nope']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /unknown model 'nope'/);
    assert.equal(unknown.stderr.trimEnd().split('\n').length, 1, 'an error about the model is said once');
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

  it('every task of TASKS is a command: in --help, with its own --help, answering a photo as JSON', async () => {
    const help = (await run(['--help'])).stdout;
    for (const task of TASKS) {
      assert.ok(help.includes(`tflite-fn ${task.id} FILE`), `--help lists ${task.id}`);
      const own = await run([task.id, '--help']);
      assert.equal(own.status, 0, own.stderr);
      for (const flag of task.cli.flags)
        assert.ok(own.stdout.includes(`--${flag.flag}`), `${task.id} --${flag.flag}`);
      for (const offer of offersOf(task))
        assert.ok(own.stdout.includes(offer.format), `${task.id}: ${offer.format}`);
      const answer = await run([task.id, grace, '--json']);
      assert.equal(answer.status, 0, `${task.id}: ${answer.stderr}`);
      const json = JSON.parse(answer.stdout) as { model: string; image: { width: number }; timings: object };
      assert.equal(json.image.width, 517, task.id);
      assert.ok(json.model && json.timings, task.id);
      // Every picture, by --format, to --out: an image at the photo's upright size.
      for (const [name, picture] of Object.entries(task.pictures ?? {})) {
        const out = join(mkdtempSync(join(tmpdir(), 'tflite-fn-picture-')), `${task.id}.${name}`);
        const drawn = await run([task.id, grace, '--format', name, '--out', out]);
        assert.equal(drawn.status, 0, `${task.id} ${name}: ${drawn.stderr}`);
        const size = await sharp(out).metadata();
        assert.deepEqual(
          [`image/${size.format}`, size.width, size.height],
          [picture.contentType, 517, 606],
          name,
        );
      }
      const wrong = await run([task.id, grace, '--format', 'nope']);
      assert.equal(wrong.status, 2, `${task.id}: an unknown format is a usage error`);
      assert.match(wrong.stderr, /format must be one of json, text/);
    }
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
    // SSD ends in the custom op TFLite_Detection_PostProcess (outputs of dynamic shape).
    const unsupported = await run([
      'convert',
      join(SHARED_MODELS, 'ssd_mobilenet_v1_coco_quant_detect.tflite'),
      '--out',
      join(dir, 'x.onnx'),
    ]);
    assert.equal(unsupported.status, 1);
    assert.match(
      unsupported.stderr,
      /unsupported TFLite op CUSTOM 'TFLite_Detection_PostProcess' \(operator \d+ of subgraph 0\)/,
    );
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

  it('names the host path of a refused or missing model file (the local user may see it; HTTP clients do not)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-paths-'));
    mkdirSync(join(dir, 'models'));
    copyFileSync(join(SHARED_MODELS, 'mobilenet_v1_0.25_128_quant.tflite'), join(dir, 'tiny.tflite'));
    copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(dir, 'models', 'labels.txt'));
    symlinkSync(join(dir, 'tiny.tflite'), join(dir, 'models', 'link.tflite'));
    const yaml = (file: string) =>
      `model: { file: ${file} }\ninput: { width: 128, height: 128 }\noutput: { labels: { file: labels.txt } }\n`;
    writeFileSync(join(dir, 'models', 'link.yaml'), yaml('link.tflite'));
    const result = await run(['classify', grace, '--models-dir', join(dir, 'models'), '-m', 'link']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /file 'link\.tflite' is a link to a file outside its folder/);
    assert.ok(result.stderr.includes(`(${join(dir, 'models', 'link.tflite')})`), result.stderr);
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

describe('many files: long command lines, big environments, folders and lists', () => {
  const missing = (dir: string, count: number) =>
    Array.from({ length: count }, (_, i) => join(dir, `not-there-${String(i).padStart(5, '0')}.jpg`));

  for (const engine of ['ort', 'litert', 'auto']) {
    it(`a 200 KB command line (3000 files) on --engine ${engine}: every file gets its line, in order`, async () => {
      // The real photo comes first, so the model is loaded with the whole command line in place.
      const gone = missing(mkdtempSync(join(tmpdir(), 'tflite-fn-many-')), 3000);
      const result = await run(['classify', '--engine', engine, grace, ...gone, grace]);
      assert.equal(result.status, 1, result.stderr.slice(0, 500));
      const lines = result.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2);
      for (const line of lines) assert.match(line, /grace_hopper\.jpg: .*military uniform/);
      const errors = result.stderr.trimEnd().split('\n');
      assert.equal(errors.length, 3000);
      assert.match(errors[0] ?? '', /not-there-00000\.jpg: .*no such file/);
      assert.match(errors[2999] ?? '', /not-there-02999\.jpg: .*no such file/);
    });
  }

  it('a 1 MB environment does not crash the native engine', async () => {
    const big = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`TFLITE_FN_TEST_FILLER_${i}`, 'x'.repeat(64 * 1024)]),
    );
    const result = await run(['classify', '--engine', 'ort', grace, '--json'], undefined, big);
    assert.equal(result.status, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { label: string }).label, 'military uniform');
  });

  it('a folder: its image files in name order, not its other files or subfolders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-folder-'));
    copyFileSync(join(IMAGES, 'parrot.jpg'), join(dir, 'b-parrot.JPG'));
    copyFileSync(grace, join(dir, 'a-grace.jpeg'));
    writeFileSync(join(dir, 'notes.txt'), 'not a photo');
    mkdirSync(join(dir, 'sub'));
    copyFileSync(join(IMAGES, 'ladybug.jpg'), join(dir, 'sub', 'ladybug.jpg'));
    const empty = mkdtempSync(join(tmpdir(), 'tflite-fn-empty-'));
    const result = await run(['classify', dir, '-f', 'text', '-k', '1']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      result.stdout.replace(/\d\.\d{4}/g, 'S'),
      `${join(dir, 'a-grace.jpeg')}: \nS  military uniform\n${join(dir, 'b-parrot.JPG')}: \nS  macaw\n`,
    );
    const json = await run(['classify', join(dir, 'sub'), '--json']);
    assert.equal((JSON.parse(json.stdout) as { file: string }).file, join(dir, 'sub', 'ladybug.jpg'));
    const none = await run(['classify', empty, grace]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no image files in this folder/);
    assert.match(none.stdout, /military uniform/);
  });

  it('--files-from FILE and --files-from - (one path per line, blank lines skipped)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-list-'));
    const parrot = join(IMAGES, 'parrot.jpg');
    writeFileSync(join(dir, 'list.txt'), `${parrot}\n\n${grace}\r\n`);
    const fromFile = await run(['classify', '--files-from', join(dir, 'list.txt'), '--json']);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    const rows = fromFile.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { file: string; label: string });
    assert.deepEqual(
      rows.map((row) => [row.file, row.label]),
      [
        [parrot, 'macaw'],
        [grace, 'military uniform'],
      ],
    );
    const fromStdin = await run(['classify', '--files-from', '-'], Buffer.from(`${grace}\n`));
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    assert.match(fromStdin.stdout, /^.*grace_hopper\.jpg: It is likely a .*military uniform/);
    assert.equal((await run(['classify', '--files-from', '-', '-'], Buffer.from(grace))).status, 2);
    // An empty list classifies nothing; it does not fall back to reading an image from stdin.
    writeFileSync(join(dir, 'empty.txt'), '\n');
    const empty = await run(['classify', '--files-from', join(dir, 'empty.txt')], photo('parrot.jpg'));
    assert.deepEqual([empty.status, empty.stdout, empty.stderr], [0, '', '']);
  });
});

describe('endless input stops at the limit', () => {
  /**
   * Runs the CLI and watches its peak memory (VmHWM, Linux): the run is killed, and the test
   * fails, if it passes `capBytes`, so a regression cannot eat the machine's memory.
   */
  function runWatchingMemory(
    args: readonly string[],
    stdinFile: string | undefined,
    env: Record<string, string>,
    capBytes: number,
  ): Promise<Run & { peakBytes: number }> {
    return new Promise((resolve, reject) => {
      const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
      const child = spawn(process.execPath, [CLI, ...args], {
        stdio: [stdin, 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
      if (typeof stdin === 'number') closeSync(stdin);
      let peakBytes = 0;
      const watch = setInterval(() => {
        try {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
          peakBytes = Math.max(peakBytes, kb * 1024);
          if (peakBytes > capBytes) child.kill('SIGKILL');
        } catch {
          // the process has just exited
        }
      }, 20);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      child.stdout?.resume();
      child.on('error', reject);
      child.on('close', (status) => {
        clearInterval(watch);
        resolve({ status, stdout: '', stdoutBytes: Buffer.alloc(0), stderr, peakBytes });
      });
    });
  }

  const MB = 1024 * 1024;
  // What node, sharp and the CLI need before reading input is about 100 MB; the input may add
  // at most twice its limit on top.
  const BASELINE = 200 * MB;

  it('classify /dev/zero and classify - < /dev/zero: a clear 32 MiB limit error, memory stays bounded', {
    skip: process.platform === 'linux' ? false : 'reads /proc',
  }, async () => {
    for (const [args, stdin] of [
      [['classify', '/dev/zero'], undefined],
      [['classify', '-'], '/dev/zero'],
      [['detect', '/dev/zero'], undefined],
    ] as const) {
      const result = await runWatchingMemory(args, stdin, {}, BASELINE + 2 * 32 * MB);
      assert.equal(result.status, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /the input is larger than the limit of 33554432 bytes \(TFLITE_FN_MAX_BYTES\)/,
        args.join(' '),
      );
      assert.ok(result.peakBytes < BASELINE + 2 * 32 * MB, `${args.join(' ')}: peak ${result.peakBytes}`);
    }
  });

  it('convert /dev/zero stops at TFLITE_FN_MAX_MODEL_BYTES', {
    skip: process.platform === 'linux' ? false : 'reads /proc',
  }, async () => {
    const limit = 16 * MB;
    const result = await runWatchingMemory(
      ['convert', '/dev/zero'],
      undefined,
      { TFLITE_FN_MAX_MODEL_BYTES: String(limit) },
      BASELINE + 2 * limit,
    );
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /larger than the limit of 16777216 bytes \(TFLITE_FN_MAX_MODEL_BYTES\)/);
    assert.ok(result.peakBytes < BASELINE + 2 * limit, `peak ${result.peakBytes}`);
  });
});
