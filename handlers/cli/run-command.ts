/**
 * `tflite-fn run program.wasm [args...] < input > output`: runs a WasmEdge TensorFlow program
 * (wasm32-wasi) in the sandbox: stdin in, its stdout and stderr out, its exit status ours.
 */
import { existsSync } from 'node:fs';
import { BadRequestError } from '../../src/errors.js';
import { parseDirectoryGrant } from '../../src/wasm/grants.js';
import { type NnPreload, parseNnPreload, preloadPathOf } from '../../src/wasm/nn-preload.js';
import { runWasm } from '../../src/wasm/sandbox.js';
import type { Io } from './commands.js';
import { readImageArgument, readStdin } from './read-input.js';

export interface RunArgs {
  readonly program?: string | undefined;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly timeoutMs?: string | undefined;
  readonly memoryMb?: string | undefined;
  readonly dirs: readonly string[];
  /** WasmEdge's NAME:ENCODING:TARGET:PATH, for WASI-NN's load_by_name. */
  readonly nnPreload: readonly string[];
}

/** wasm32 addresses 4 GB at most; a day is longer than any program should run. */
const LIMITS = {
  timeout: { fallback: 10_000, max: 24 * 60 * 60 * 1000, unit: 'milliseconds' },
  memory: { fallback: 512, max: 4096, unit: 'MB' },
} as const;

/** A whole number from 1 to the flag's maximum, or a usage error naming the flag. */
function positiveInteger(flag: keyof typeof LIMITS, value: string | undefined): number {
  const { fallback, max, unit } = LIMITS[flag];
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > max)
    throw new BadRequestError(
      'bad_option',
      `--${flag} takes a whole number of ${unit} from 1 to ${max}, got '${value}'`,
    );
  return number;
}

/**
 * The --nn-preload values. The catalog (a PATH naming a built-in model by id) is loaded only
 * when a PATH is no file: a program's first run in a new process stays quick.
 */
async function parsePreloads(specs: readonly string[]): Promise<NnPreload[]> {
  if (specs.every((spec) => existsSync(preloadPathOf(spec))))
    return specs.map((spec) => parseNnPreload(spec));
  const { parsePreload } = await import('../../src/wasm/builtin-preload.js');
  return specs.map((spec) => parsePreload(spec));
}

export async function runCommand(args: RunArgs, io: Io): Promise<number> {
  if (!args.program)
    throw new BadRequestError('bad_option', 'name the program: tflite-fn run program.wasm < input');
  // Every flag is checked before anything is read or run.
  const timeoutMs = positiveInteger('timeout', args.timeoutMs);
  const memoryMb = positiveInteger('memory', args.memoryMb);
  const dirs = args.dirs.map(parseDirectoryGrant);
  const nnPreload = await parsePreloads(args.nnPreload);
  const env = Object.fromEntries(
    args.env.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new BadRequestError('bad_option', `--env takes NAME=VALUE, got '${pair}'`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const program = await readImageArgument(args.program);
  const result = await runWasm(program, {
    args: [args.program, ...args.args],
    env,
    stdin: process.stdin.isTTY ? new Uint8Array(0) : await readStdin(),
    timeoutMs,
    memoryBytes: memoryMb * 1024 * 1024,
    dirs,
    nnPreload,
  });
  io.stdout.write(result.stdout);
  io.stderr.write(result.stderr);
  if (result.stdoutTruncated)
    io.stderr.write('tflite-fn: the program wrote more than 1 MB; the rest was dropped\n');
  return result.exitCode;
}
