/**
 * `tflite-fn <task> FILE|DIR… [--model M] [--json] [--format F] [--out F] [task flags]`: any
 * task of TASKS on files, folders' images, a list (--files-from) or stdin. One result per file,
 * in order; a picture (detect's boxed photo, a mask…) goes to --out, or to stdout when stdout
 * is not a terminal. What is particular to a task comes from the task: its flags, its default
 * output, its renderers and its summary after all files (embed's similarities).
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { THREADS } from '../../src/config/index.js';
import { BadRequestError, toTfliteFnError } from '../../src/errors.js';
import { offersOf, parseFormat } from '../../src/http/negotiate.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import type { AnyTask } from '../../src/tasks/index.js';
import { runTask } from '../../src/tasks/run.js';
import type { RawOptions, TaskResultBase } from '../../src/tasks/task.js';
import type { Io } from './commands.js';
import { localMessage } from './messages.js';
import { readImageArgument } from './read-input.js';

export interface TaskCommandArgs {
  readonly task: AnyTask;
  /** Files in order (folders already expanded, see input-files.ts); none means stdin. */
  readonly files: readonly string[];
  /** Folders named that hold no image: each is reported as an error. */
  readonly emptyFolders?: readonly string[];
  /** Name the file on every result, even when there is one (it came from a folder or list). */
  readonly nameEach?: boolean;
  readonly model?: string | undefined;
  /** The task's own flags, as options (see optionsFromFlags). */
  readonly options: RawOptions;
  readonly format?: string | undefined;
  readonly json?: boolean | undefined;
  readonly out?: string | undefined;
  readonly modelsDirs: readonly string[];
}

/** Error codes that are about the model asked for, not about one input file. */
const MODEL_ERRORS = new Set([
  'unknown_model',
  'wrong_task',
  'model_load_failed',
  'invalid_model_descriptor',
]);

/** The picture an --out file's extension asks for (boxed.png → the task's PNG picture). */
function pictureForFile(task: AnyTask, out: string): string | undefined {
  const extension = extname(out).toLowerCase().slice(1);
  const mediaType = extension === 'jpg' ? 'image/jpeg' : `image/${extension}`;
  const pictures = Object.entries(task.pictures ?? {});
  const byName = pictures.find(([name]) => name === extension);
  return (byName ?? pictures.find(([, picture]) => picture.contentType === mediaType))?.[0];
}

/**
 * The output form: --json, else --format, else (with --out) the picture its extension names,
 * else the task's default. A default picture for a terminal, or for several files, is the JSON
 * instead (with a hint for the terminal): a picture is one file's answer, for a file or a pipe.
 */
function outputFormat(
  args: TaskCommandArgs,
  files: number,
  stdoutIsTerminal: boolean,
): { format: string; hint?: string } {
  const { task } = args;
  if (args.json) return { format: 'json' };
  const asked = parseFormat(args.format, offersOf(task), `tflite-fn ${task.id}`);
  if (args.out && files > 1)
    throw new BadRequestError('bad_option', `--out takes one file's answer; ${files} files were named`);
  if (asked && task.pictures?.[asked] && files > 1)
    throw new BadRequestError(
      'bad_option',
      `a ${asked} picture is one file's answer: name one file, or use --json`,
    );
  const format = asked ?? (args.out ? pictureForFile(task, args.out) : undefined) ?? task.cli.defaultFormat;
  if (!task.pictures?.[format] || args.out || asked) return { format };
  if (files > 1) return { format: 'json' };
  if (stdoutIsTerminal)
    return { format: 'json', hint: `redirect stdout (> out.${format}) or use --out for the picture` };
  return { format };
}

/**
 * JSON asked for by name: the summary then comes as one more JSON line. A task whose default
 * form is JSON (embed) keeps the readable summary when nothing was asked.
 */
function asksJson(args: TaskCommandArgs): boolean {
  return args.json === true || args.format === 'json';
}

/** One file's answer as text (for stdout), or the picture's bytes. */
async function answer(
  args: TaskCommandArgs,
  format: string,
  image: Uint8Array,
  result: TaskResultBase,
  file: string | undefined,
): Promise<string | Uint8Array> {
  const { task } = args;
  const picture = task.pictures?.[format];
  if (picture) return picture.render(image, result);
  if (format === 'json') {
    const json = (task.toJson ? task.toJson(result) : result) as object;
    return JSON.stringify(file === undefined ? json : { file, ...json });
  }
  const text = format === 'html' && task.html ? task.html(result) : task.text(result);
  if (file === undefined) return text;
  return `${file}: ${format === 'text' ? `\n${text}` : text}`;
}

export async function taskCommand(
  args: TaskCommandArgs,
  io: Io & { readonly stdoutIsTerminal: boolean },
): Promise<number> {
  const { task } = args;
  const options = task.parseOptions(args.options);
  const emptyFolders = args.emptyFolders ?? [];
  for (const folder of emptyFolders) io.stderr.write(`tflite-fn: ${folder}: no image files in this folder\n`);
  // Stdin is the image only when nothing names one: an empty list or folder runs nothing.
  const named = args.files.length > 0 || emptyFolders.length > 0 || args.nameEach === true;
  const files = named ? args.files : ['-'];
  const { format, hint } = outputFormat(args, files.length, io.stdoutIsTerminal);
  // Warming up costs two extra inferences, and starting inference threads ~150 ms: both pay
  // off only when several images follow. A one-shot run starts fastest on one thread.
  const oneShot = files.length <= 2;
  if (oneShot) THREADS.assign('1', { ifUnset: true });
  const catalog = new ModelCatalog({ dirs: args.modelsDirs, warmUp: !oneShot });
  const many = files.length > 1 || args.nameEach === true;
  const results: TaskResultBase[] = [];
  const names: string[] = [];
  let status = emptyFolders.length > 0 ? 1 : 0;
  if (hint) io.stderr.write(`tflite-fn: ${hint}\n`);
  for (const file of files) {
    try {
      const image = await readImageArgument(file);
      const result = await runTask(task, image, options, { model: args.model, catalog });
      // Kept only for a summary after the last file (embed's similarities): a segment result
      // holds its mask arrays (~0.5 MB for DeepLab), and a folder may hold thousands of photos.
      if (task.cli.summarize) {
        results.push(result);
        names.push(file);
      }
      const output = await answer(args, format, image, result, many ? file : undefined);
      if (args.out) {
        await writeFile(args.out, typeof output === 'string' ? `${output}\n` : output);
        io.stderr.write(`${task.text(result).split('\n')[0]} -> ${args.out}\n`);
      } else io.stdout.write(typeof output === 'string' ? `${output}\n` : output);
    } catch (error) {
      const failure = toTfliteFnError(error);
      io.stderr.write(`tflite-fn: ${file === '-' ? 'stdin' : file}: ${localMessage(error)}\n`);
      status = 1;
      // An error about the model (not this file) fails every file the same way: say it once.
      if (MODEL_ERRORS.has(failure.code)) break;
    }
  }
  const summary = task.cli.summarize?.(results, names);
  if (summary) io.stdout.write(`${asksJson(args) ? JSON.stringify(summary.json) : summary.text}\n`);
  await catalog.dispose();
  return status;
}

/**
 * The parseArgs options of a task's own flags, and their values as RawOptions: a flag with a
 * value gives its string; a bare flag gives true, or false for a `no-` flag (--no-tiling).
 */
export function taskFlagOptions(
  task: AnyTask,
): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    task.cli.flags.map((flag) => [
      flag.flag,
      { type: flag.value ? 'string' : 'boolean', ...(flag.short ? { short: flag.short } : {}) },
    ]),
  );
}

export function optionsFromFlags(task: AnyTask, values: Record<string, unknown>): RawOptions {
  const options: Record<string, unknown> = {};
  for (const flag of task.cli.flags) {
    const value = values[flag.flag];
    if (value === undefined) continue;
    options[flag.option] = flag.value ? value : !flag.flag.startsWith('no-');
  }
  return options;
}
