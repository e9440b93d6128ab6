/**
 * `tflite-fn run program.wasm [args...] < input > output`: runs a WasmEdge TensorFlow program
 * (wasm32-wasi) in the sandbox: stdin in, its stdout and stderr out, its exit status ours.
 */
import { BadRequestError } from '../../src/errors.js';
import { runWasm } from '../../src/wasm/sandbox.js';
import { parseDirectoryGrant } from '../../src/wasm/wasi-files.js';
import type { Io } from './commands.js';
import { readImageArgument, readStdin } from './read-input.js';

export interface RunArgs {
  readonly program?: string | undefined;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly timeoutMs?: string | undefined;
  readonly memoryMb?: string | undefined;
  readonly dirs: readonly string[];
}

export async function runCommand(args: RunArgs, io: Io): Promise<number> {
  if (!args.program)
    throw new BadRequestError('bad_option', 'name the program: tflite-fn run program.wasm < input');
  const program = await readImageArgument(args.program);
  const env = Object.fromEntries(
    args.env.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new BadRequestError('bad_option', `--env takes NAME=VALUE, got '${pair}'`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const result = await runWasm(program, {
    args: [args.program, ...args.args],
    env,
    stdin: process.stdin.isTTY ? new Uint8Array(0) : await readStdin(),
    timeoutMs: args.timeoutMs ? Number(args.timeoutMs) : 10_000,
    memoryBytes: (args.memoryMb ? Number(args.memoryMb) : 512) * 1024 * 1024,
    dirs: args.dirs.map(parseDirectoryGrant),
  });
  io.stdout.write(result.stdout);
  io.stderr.write(result.stderr);
  if (result.stdoutTruncated)
    io.stderr.write('tflite-fn: the program wrote more than 1 MB; the rest was dropped\n');
  return result.exitCode;
}
