#!/usr/bin/env node
/**
 * The tflite-fn command: the CLI is one more thin adapter over the core, like the platform
 * handlers. It turns argv and stdin into core calls and results into stdout and an exit status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { loadLiteRtRuntime } from '../../src/engine/litert-runtime.js';
import { parseEngineSetting } from '../../src/engine/select.js';
import { toTfliteFnError } from '../../src/errors.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { packageRoot } from '../../src/store/paths.js';
import type { Io } from './commands.js';
import {
  CLASSIFY_HELP,
  CONVERT_HELP,
  DETECT_HELP,
  DEV_HELP,
  EVENT_HELP,
  MAIN_HELP,
  MODELS_HELP,
  RUN_HELP,
  SERVE_HELP,
  SETUP_HELP,
  STREAM_HELP,
  STREAM_SOURCE_HELP,
} from './help.js';
import { localMessage } from './messages.js';

const USAGE_ERROR = 2;

const classifyOptions = {
  model: { type: 'string', short: 'm' },
  top: { type: 'string', short: 'k' },
  resize: { type: 'string', short: 'r' },
  format: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  'models-dir': { type: 'string', multiple: true },
  'files-from': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * Every command but classify: its options, its help, and what it runs (imported on demand, so
 * `tflite-fn < photo.jpg` loads none of them).
 */
const SUBCOMMANDS: Record<
  string,
  {
    options: ParseArgsConfig['options'];
    help: string;
    run: (values: Values, positionals: string[], io: Io) => Promise<number>;
  }
> = {
  models: {
    options: { json: { type: 'boolean' }, 'models-dir': { type: 'string', multiple: true } },
    help: MODELS_HELP,
    run: async (values, _positionals, io) =>
      (await import('./commands.js')).modelsCommand(
        { json: values.json === true, modelsDirs: (values['models-dir'] as string[] | undefined) ?? [] },
        io,
      ),
  },
  setup: {
    options: { offline: { type: 'boolean' }, quiet: { type: 'boolean' }, 'no-convert': { type: 'boolean' } },
    help: SETUP_HELP,
    run: async (values, _positionals, io) =>
      (await import('./commands.js')).setupCommand(
        {
          offline: values.offline === true,
          quiet: values.quiet === true,
          convert: values['no-convert'] !== true,
        },
        io,
      ),
  },
  serve: {
    options: Object.fromEntries(
      ['port', 'host', 'workers', 'queue', 'max-body', 'timeout', 'api-key', 'cors', 'preload'].map(
        (name) => [name, { type: 'string' as const }],
      ),
    ),
    help: SERVE_HELP,
    run: async (values) =>
      (await import('../server/command.js')).serveCommand(values as Record<string, string>),
  },
  dev: {
    options: {
      platform: { type: 'string', short: 'p' },
      port: { type: 'string' },
      host: { type: 'string' },
      event: { type: 'string' },
    },
    help: DEV_HELP,
    run: async (values, _positionals, io) =>
      (await import('../dev/command.js')).devCommand(values as Record<string, string>, io.stdout),
  },
  detect: {
    options: {
      model: { type: 'string', short: 'm' },
      out: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      'no-tiling': { type: 'boolean' },
    },
    help: DETECT_HELP,
    run: async (values, positionals, io) =>
      (await import('./detect-command.js')).detectCommand(
        {
          file: positionals[0],
          model: values.model as string | undefined,
          out: values.out as string | undefined,
          json: values.json === true,
          tiling: values['no-tiling'] !== true,
        },
        { ...io, stdoutIsTerminal: process.stdout.isTTY === true },
      ),
  },
  run: {
    options: {
      env: { type: 'string', multiple: true },
      dir: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      memory: { type: 'string' },
    },
    help: RUN_HELP,
    run: async (values, positionals, io) =>
      (await import('./run-command.js')).runCommand(
        {
          program: positionals[0],
          args: positionals.slice(1),
          env: (values.env as string[] | undefined) ?? [],
          dirs: (values.dir as string[] | undefined) ?? [],
          timeoutMs: values.timeout as string | undefined,
          memoryMb: values.memory as string | undefined,
        },
        io,
      ),
  },
  stream: {
    options: Object.fromEntries(
      ['server', 'in', 'out', 'dead', 'task', 'model', 'concurrency', 'ack-wait', 'max-deliver'].map(
        (name) => [name, { type: 'string' as const }],
      ),
    ),
    help: STREAM_HELP,
    run: async (values) =>
      (await import('../stream/command.js')).streamCommand(values as Record<string, string>),
  },
  'stream-source': {
    options: Object.fromEntries(
      ['server', 'in', 'out', 'dead', 'every', 'rate'].map((name) => [name, { type: 'string' as const }]),
    ),
    help: STREAM_SOURCE_HELP,
    run: async (values, positionals, io) =>
      (await import('../stream/command.js')).streamSourceCommand(
        positionals[0],
        values as Record<string, string>,
        io,
      ),
  },
  convert: {
    options: { force: { type: 'boolean' }, json: { type: 'boolean' }, out: { type: 'string' } },
    help: CONVERT_HELP,
    run: async (values, positionals, io) =>
      (await import('./convert-command.js')).convertCommand(
        {
          target: positionals[0],
          out: values.out as string | undefined,
          force: values.force === true,
          json: values.json === true,
        },
        io,
      ),
  },
  event: {
    options: {
      kind: { type: 'string' },
      path: { type: 'string' },
      query: { type: 'string' },
      'content-type': { type: 'string' },
      accept: { type: 'string' },
    },
    help: EVENT_HELP,
    run: async (values, positionals, io) =>
      (await import('../dev/event-command.js')).eventCommand(
        {
          ...(values as Record<string, string>),
          contentType: values['content-type'] as string | undefined,
          file: positionals[0],
        },
        io.stdout,
      ),
  },
};

/**
 * `--engine auto|litert|ort` is accepted by every command (classify, detect, serve, dev, run,
 * models): it becomes TFLITE_FN_ENGINE, which every catalog and the server's worker processes
 * read, so one setting reaches every place a model is compiled.
 */
function takeEngineOption(argv: readonly string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--engine' || arg.startsWith('--engine=')) {
      const value = arg === '--engine' ? argv[++i] : arg.slice('--engine='.length);
      process.env.TFLITE_FN_ENGINE = parseEngineSetting(value ?? '-');
    } else rest.push(arg);
  }
  parseEngineSetting(); // a bad TFLITE_FN_ENGINE is a usage error now, not at the first request
  return rest;
}

/** Whether the model a one-shot run will use runs on LiteRT (so its runtime is worth preloading). */
function runsOnLiteRt(modelId: string | undefined): boolean {
  try {
    return new ModelCatalog({ warmUp: false }).plannedEngine(modelId).engine === 'litert';
  } catch {
    return true; // an unknown model: the classify command reports it
  }
}

async function main(commandLine: readonly string[], io: Io): Promise<number> {
  const argv = takeEngineOption(commandLine);
  const [first, ...rest] = argv;
  const command = first && !first.startsWith('-') ? first : undefined;
  const args = command ? rest : [...argv];

  const subcommand = command ? SUBCOMMANDS[command] : undefined;
  if (subcommand) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: ['event', 'detect', 'run', 'convert', 'stream-source'].includes(command as string),
      options: { ...subcommand.options, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return write(io, subcommand.help);
    return subcommand.run(values, positionals, io);
  }
  if (command === 'help') return write(io, MAIN_HELP);
  if (command !== undefined && command !== 'classify') {
    io.stderr.write(`tflite-fn: unknown command '${command}'. Run 'tflite-fn --help'.\n`);
    return USAGE_ERROR;
  }

  const { values, positionals } = parseArgs({
    args,
    options: classifyOptions,
    allowPositionals: command === 'classify',
  });
  if (values.version) {
    const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      version: string;
    };
    return write(io, `${manifest.version}\n`);
  }
  if (values.help) return write(io, command ? CLASSIFY_HELP : MAIN_HELP);
  const filesFrom = values['files-from'];
  if (positionals.length === 0 && filesFrom === undefined && process.stdin.isTTY) {
    io.stderr.write(
      "tflite-fn: no image given: pipe one in (tflite-fn < photo.jpg) or name files (tflite-fn classify photo.jpg). See 'tflite-fn --help'.\n",
    );
    return USAGE_ERROR;
  }
  const { inputFiles } = await import('./input-files.js');
  const inputs = await inputFiles(positionals, filesFrom);
  // Start the wasm runtime before sharp is imported: V8 compiles LiteRT's 9 MB of wasm on a
  // background thread while the main thread loads libvips (saves ~70 ms of a cold start).
  if (inputs.files.length <= 2) {
    process.env.TFLITE_FN_THREADS ??= '1'; // see classifyCommand
    // V8 compiles wasm quickly (Liftoff), then recompiles hot code on background threads
    // (TurboFan). A one-shot run is over before that pays off, yet the recompiling competes
    // for the CPU and exit waits for it: ~550 -> ~430 ms to the answer, measured.
    setFlagsFromString('--liftoff-only');
  }
  // onnxruntime loads in ~40 ms when the model needs it; LiteRT's runtime is worth starting early.
  if (runsOnLiteRt(values.model as string | undefined)) loadLiteRtRuntime().catch(() => undefined);
  const { classifyCommand } = await import('./commands.js');
  return classifyCommand(
    {
      files: inputs.files,
      emptyFolders: inputs.emptyFolders,
      nameEach: inputs.expanded,
      model: values.model,
      top: values.top,
      resize: values.resize,
      format: values.format,
      json: values.json,
      modelsDirs: values['models-dir'] ?? [],
      wasmedgeCompatible: command === undefined,
    },
    io,
  );
}

function write(io: Io, text: string): number {
  io.stdout.write(text);
  return 0;
}

const io: Io = { stdout: process.stdout, stderr: process.stderr };
// A closed pipe (`tflite-fn ... | head`) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
});

/**
 * Exits once everything written to stdout and stderr has been handed to the OS. A write to a
 * pipe is synchronous only while the pipe has room (64 KB on Linux); the rest waits in the
 * stream, and process.exit() would drop it. A write's callback runs after every earlier write.
 */
async function exitWhenFlushed(status: number): Promise<never> {
  process.exitCode = status;
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) => new Promise<void>((resolve) => stream.write('', () => resolve())),
    ),
  );
  // Exit now rather than wait for V8 to tear down wasm memory and sharp's thread pool (~150 ms).
  process.exit(status);
}

main(process.argv.slice(2), io).then(
  (status) => exitWhenFlushed(status),
  (error: unknown) => {
    const failure = toTfliteFnError(error);
    const isUsage =
      failure.code === 'bad_option' ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
    io.stderr.write(`tflite-fn: ${isUsage ? (error as Error).message : localMessage(error, false)}\n`);
    process.exitCode = isUsage ? USAGE_ERROR : 1;
  },
);
