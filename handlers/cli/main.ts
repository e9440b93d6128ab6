#!/usr/bin/env node
/**
 * The tflite-fn command: the CLI is one more thin adapter over the core, like the platform
 * handlers. It turns argv and stdin into core calls and results into stdout and an exit status.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { checkVariables, ENGINE, THREADS } from '../../src/config/index.js';
import { loadLiteRtRuntime } from '../../src/engine/litert-runtime.js';
import { parseEngineSetting } from '../../src/engine/select.js';
import { toTfliteFnError } from '../../src/errors.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { packageRoot } from '../../src/store/paths.js';
import type { Io } from './commands.js';
import {
  CONVERT_HELP,
  DEV_HELP,
  EVENT_HELP,
  MODELS_HELP,
  RUN_HELP,
  SERVE_HELP,
  SETUP_HELP,
  STREAM_HELP,
  STREAM_SOURCE_HELP,
} from './help.js';
import { localMessage } from './messages.js';

const USAGE_ERROR = 2;

/** The task of the bare form, `tflite-fn < photo.jpg` (WasmEdge's classify example). */
const BARE_TASK = 'classify';

/** Every task command's own options; each task adds its flags (task.cli.flags). */
const taskOptions = {
  model: { type: 'string', short: 'm' },
  format: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  'models-dir': { type: 'string', multiple: true },
  'files-from': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * Every command but the tasks: its options, its help, and what it runs (imported on demand, so
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
    options: {
      offline: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'no-convert': { type: 'boolean' },
      bundle: { type: 'boolean' },
    },
    help: SETUP_HELP,
    run: async (values, _positionals, io) =>
      (await import('./commands.js')).setupCommand(
        {
          offline: values.offline === true,
          quiet: values.quiet === true,
          convert: values['no-convert'] !== true,
          bundle: values.bundle === true,
        },
        io,
      ),
  },
  serve: {
    options: Object.fromEntries(
      [
        'port',
        'host',
        'workers',
        'queue',
        'max-body',
        'timeout',
        'api-key',
        'cors',
        'preload',
        'batch-max',
        'batch-delay-ms',
        'model-repository',
        'strict-readiness',
      ].map((name) => [name, { type: 'string' as const }]),
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
  run: {
    options: {
      env: { type: 'string', multiple: true },
      dir: { type: 'string', multiple: true },
      'nn-preload': { type: 'string', multiple: true },
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
          nnPreload: (values['nn-preload'] as string[] | undefined) ?? [],
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
    options: {
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      'model-repository': { type: 'string' },
    },
    help: CONVERT_HELP,
    run: async (values, positionals, io) =>
      (await import('./convert-command.js')).convertCommand(
        {
          target: positionals[0],
          repository: values['model-repository'] as string | undefined,
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
      ENGINE.assign(parseEngineSetting(value ?? '-'));
    } else rest.push(arg);
  }
  checkVariables(); // a bad TFLITE_FN_* value is a usage error now, not at the first image
  return rest;
}

/** Whether the model a one-shot run will use runs on LiteRT (so its runtime is worth preloading). */
function runsOnLiteRt(modelId: string | undefined): boolean {
  try {
    return new ModelCatalog({ warmUp: false }).plannedEngine(modelId).engine === 'litert';
  } catch {
    return true; // an unknown model: the task command reports it
  }
}

/** Options of every task command that take a value (a task's own may too: see preStart). */
const VALUE_OPTIONS = new Set(['-m', '--model', '-f', '--format', '-o', '--out', '--models-dir']);

/**
 * What a task run can start before the tasks (and sharp with them) are imported: V8 compiles
 * LiteRT's 9 MB of wasm on a background thread while the main thread loads libvips (~70 ms of
 * a cold start). Read from the command line roughly, since the task's own flags are not known
 * yet: a flag's value may count as a file, which only forgoes the one-shot settings.
 */
function preStart(command: string | undefined, args: readonly string[]): void {
  let model: string | undefined;
  const named: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-m' || arg === '--model') model = args[i + 1];
    else if (arg.startsWith('--model=')) model = arg.slice('--model='.length);
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (arg === '-' || !arg.startsWith('-')) named.push(arg);
    else if (arg.startsWith('--files-from')) named.push(arg, arg); // a list: likely many
  }
  const folder = named.some((path) => path !== '-' && isFolder(path));
  if (named.length <= 2 && !folder) {
    THREADS.assign('1', { ifUnset: true }); // see taskCommand
    // V8 compiles wasm quickly (Liftoff), then recompiles hot code on background threads
    // (TurboFan). A one-shot run is over before that pays off, yet the recompiling competes
    // for the CPU and exit waits for it: ~550 -> ~430 ms to the answer, measured.
    setFlagsFromString('--liftoff-only');
  }
  // Without a model named, only the bare form's model is known before the tasks are loaded.
  // onnxruntime loads in ~40 ms when the model needs it; LiteRT's runtime is worth starting early.
  if ((model !== undefined || command === undefined || command === BARE_TASK) && runsOnLiteRt(model))
    loadLiteRtRuntime().catch(() => undefined);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `tflite-fn TASK …` and the bare form: any task of TASKS (see task-command.ts). */
async function taskMain(command: string | undefined, args: readonly string[], io: Io): Promise<number> {
  const onlyText = args.some((arg) => ['-h', '--help', '-v', '--version'].includes(arg));
  if (!onlyText && command !== 'help') preStart(command, args);
  const [{ TASKS }, { taskCommand, optionsFromFlags, taskFlagOptions }, { offersOf }, help] =
    await Promise.all([
      import('../../src/tasks/index.js'),
      import('./task-command.js'),
      import('../../src/http/negotiate.js'),
      import('./help.js'),
    ]);
  if (command === 'help') return write(io, help.mainHelp(TASKS));
  const task = TASKS.find((candidate) => candidate.id === (command ?? BARE_TASK));
  if (!task) {
    io.stderr.write(`tflite-fn: unknown command '${command}'. Run 'tflite-fn --help'.\n`);
    return USAGE_ERROR;
  }
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { ...taskFlagOptions(task), ...taskOptions },
    allowPositionals: command !== undefined,
  });
  if (values.version) {
    const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      version: string;
    };
    return write(io, `${manifest.version}\n`);
  }
  if (values.help) {
    if (!command) return write(io, help.mainHelp(TASKS));
    const formats = offersOf(task).map((offer) => offer.format);
    return write(io, help.taskHelp(task, formats, task.id === BARE_TASK));
  }
  const filesFrom = values['files-from'] as string | undefined;
  if (positionals.length === 0 && filesFrom === undefined && process.stdin.isTTY) {
    io.stderr.write(
      `tflite-fn: no image given: pipe one in (tflite-fn ${task.id} < photo.jpg) or name files (tflite-fn ${task.id} photo.jpg). See 'tflite-fn ${task.id} --help'.\n`,
    );
    return USAGE_ERROR;
  }
  const { inputFiles } = await import('./input-files.js');
  const inputs = await inputFiles(positionals, filesFrom);
  const options = optionsFromFlags(task, values);
  // The bare form reproduces WasmEdge's classify example, which stretches the photo to the
  // model's size; `classify` uses the model's own (more accurate) resize mode.
  const bare = command === undefined ? { resize: 'fill' } : {};
  return taskCommand(
    {
      task,
      files: inputs.files,
      emptyFolders: inputs.emptyFolders,
      nameEach: inputs.expanded,
      model: values.model as string | undefined,
      options: { ...bare, ...options },
      format: values.format as string | undefined,
      json: values.json === true,
      out: values.out as string | undefined,
      modelsDirs: (values['models-dir'] as string[] | undefined) ?? [],
    },
    { ...io, stdoutIsTerminal: process.stdout.isTTY === true },
  );
}

async function main(commandLine: readonly string[], io: Io): Promise<number> {
  const argv = takeEngineOption(commandLine);
  const [first, ...rest] = argv;
  const command = first && !first.startsWith('-') ? first : undefined;
  const args = command ? rest : [...argv];

  const subcommand = command ? SUBCOMMANDS[command] : undefined;
  if (subcommand) {
    // `run`: everything after the program's path is the program's, as with `wasmedge prog.wasm …`.
    const [own, programArgs] =
      command === 'run' ? splitAtProgram(args, subcommand.options) : [args, [] as string[]];
    const { values, positionals } = parseArgs({
      args: own,
      allowPositionals: ['event', 'run', 'convert', 'stream-source'].includes(command as string),
      options: { ...subcommand.options, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return write(io, subcommand.help);
    return subcommand.run(values, [...positionals, ...programArgs], io);
  }
  return taskMain(command, args, io);
}

/**
 * Splits `run`'s arguments at the program's path: tflite-fn's options come before it, and
 * the path and everything after it (`--help`, `-v` included) go to the program untouched.
 */
function splitAtProgram(
  args: readonly string[],
  options: ParseArgsConfig['options'],
): [own: string[], program: string[]] {
  const takesValue = (arg: string) => {
    const name = arg.replace(/^--?/, '');
    return !arg.includes('=') && arg.startsWith('--') && options?.[name]?.type === 'string';
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (arg === '-' || !arg.startsWith('-')) return [args.slice(0, i), args.slice(i)];
    if (takesValue(arg)) i++;
  }
  return [[...args], []];
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
