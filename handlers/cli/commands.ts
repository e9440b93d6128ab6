/** The CLI's commands. Each returns its exit status; output goes to the streams it is given. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { classify, parseResize, parseTop } from '../../src/classify.js';
import { readReport } from '../../src/convert/store.js';
import { plannedEngine } from '../../src/engine/select.js';
import { BadRequestError, toTfliteFnError } from '../../src/errors.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { modelFileLimit } from '../../src/model/model-file.js';
import { servedModelKey } from '../../src/model/served-model.js';
import { OUTPUT_FORMATS, type OutputFormat, render } from '../../src/output/format.js';
import { setup } from '../../src/store/setup.js';
import { taskById } from '../../src/tasks/index.js';
import { localMessage } from './messages.js';
import { readImageArgument } from './read-input.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface ClassifyArgs {
  /** Files in order (folders already expanded, see input-files.ts); none means stdin. */
  readonly files: readonly string[];
  /** Folders named that hold no image: each is reported as an error. */
  readonly emptyFolders?: readonly string[];
  /** Name the file on every result line, even when there is one (it came from a folder or list). */
  readonly nameEach?: boolean;
  readonly model?: string | undefined;
  readonly top?: string | undefined;
  readonly resize?: string | undefined;
  readonly format?: string | undefined;
  readonly json?: boolean | undefined;
  readonly modelsDirs: readonly string[];
  /**
   * The bare `tflite-fn < photo.jpg` form reproduces WasmEdge's classify example, which
   * stretches the photo to the model's size; `classify` uses the model's own (more accurate)
   * resize mode unless --resize says otherwise.
   */
  readonly wasmedgeCompatible?: boolean;
}

function outputFormat(args: ClassifyArgs): OutputFormat {
  if (args.json) return 'json';
  const format = args.format ?? 'sentence';
  if (!OUTPUT_FORMATS.includes(format as OutputFormat)) {
    throw new BadRequestError(
      'bad_option',
      `--format must be one of ${OUTPUT_FORMATS.join(', ')}, got '${format}'`,
    );
  }
  return format as OutputFormat;
}

/** Error codes that are about the model asked for, not about one input file. */
const MODEL_ERRORS = new Set([
  'unknown_model',
  'wrong_task',
  'model_load_failed',
  'invalid_model_descriptor',
]);

export async function classifyCommand(args: ClassifyArgs, io: Io): Promise<number> {
  const format = outputFormat(args);
  const top = parseTop(args.top);
  const resize = parseResize(args.resize) ?? (args.wasmedgeCompatible ? 'fill' : undefined);
  const emptyFolders = args.emptyFolders ?? [];
  for (const folder of emptyFolders) io.stderr.write(`tflite-fn: ${folder}: no image files in this folder\n`);
  // Stdin is the image only when nothing names one: an empty list or folder classifies nothing.
  const named = args.files.length > 0 || emptyFolders.length > 0 || args.nameEach === true;
  const files = named ? args.files : ['-'];
  // Warming up costs two extra inferences, and starting inference threads ~150 ms: both pay
  // off only when several images follow. A one-shot run starts fastest on one thread.
  const oneShot = files.length <= 2;
  if (oneShot) process.env.TFLITE_FN_THREADS ??= '1';
  const catalog = new ModelCatalog({ dirs: args.modelsDirs, warmUp: !oneShot });
  const many = files.length > 1 || args.nameEach === true;
  let status = emptyFolders.length > 0 ? 1 : 0;
  for (const file of files) {
    try {
      const image = await readImageArgument(file);
      const result = await classify(image, { model: args.model, top, resize, catalog });
      const text = format === 'json' && many ? JSON.stringify({ file, ...result }) : render(result, format);
      const prefix = many && format !== 'json' ? `${file}: ` : '';
      io.stdout.write(`${prefix}${format === 'text' && many ? `\n${text}` : text}\n`);
    } catch (error) {
      const failure = toTfliteFnError(error);
      io.stderr.write(`tflite-fn: ${file === '-' ? 'stdin' : file}: ${localMessage(error)}\n`);
      status = 1;
      // An error about the model (not this file) fails every file the same way: say it once.
      if (MODEL_ERRORS.has(failure.code)) break;
    }
  }
  await catalog.dispose();
  return status;
}

export async function modelsCommand(
  args: { json?: boolean | undefined; modelsDirs: readonly string[] },
  io: Io,
): Promise<number> {
  const catalog = new ModelCatalog({ dirs: args.modelsDirs, warmUp: false });
  const rows = catalog.entries().map((entry) => {
    if (!entry.descriptor) {
      return {
        id: entry.id,
        default: entry.id === catalog.defaultModel,
        descriptor: entry.descriptorPath,
        error: entry.error?.message ?? 'invalid',
      };
    }
    const d = entry.descriptor;
    let model: { path: string };
    let labels: { path: string } | undefined;
    try {
      model = catalog.locate(entry, d.model);
      const labelsRef = taskById(d.task).labelsOf?.(d);
      labels = labelsRef ? catalog.locate(entry, labelsRef) : undefined;
    } catch (error) {
      // A file outside its folder: listed as unusable, like an invalid descriptor.
      const failure = toTfliteFnError(error);
      return {
        id: entry.id,
        default: entry.id === catalog.defaultModel,
        descriptor: entry.descriptorPath,
        error: failure.expose ? failure.message : String(error),
      };
    }
    const hashable = existsSync(model.path) && statSync(model.path).size <= modelFileLimit().maxBytes;
    const sha256 =
      d.model.sha256 ??
      (hashable ? createHash('sha256').update(readFileSync(model.path)).digest('hex') : undefined);
    const key = sha256 ? servedModelKey(sha256, d.model.outputs) : undefined;
    const plan = key ? plannedEngine(key, catalog.engine) : undefined;
    const report = key ? readReport(key) : undefined;
    return {
      id: entry.id,
      default: entry.id === catalog.defaultModel,
      title: d.title ?? '',
      builtin: entry.builtin,
      input: `${d.input.width}x${d.input.height} ${d.input.format}`,
      resize: d.input.resize,
      descriptor: entry.descriptorPath,
      model: { path: model.path, present: existsSync(model.path) },
      task: d.task,
      labels: labels ? { path: labels.path, present: existsSync(labels.path) } : undefined,
      engine: plan ? { name: plan.engine, ready: plan.ready, reason: plan.reason } : undefined,
      conversion: report,
    };
  });
  if (args.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  for (const row of rows) {
    const mark = row.default ? ' (default)' : '';
    if ('error' in row) {
      io.stdout.write(
        `${row.id}${mark}  INVALID descriptor ${row.descriptor}\n  ${String(row.error).split('\n').join('\n  ')}\n`,
      );
      continue;
    }
    const state = (present: boolean) => (present ? 'present' : 'MISSING (run: npx tflite-fn setup)');
    io.stdout.write(
      `${row.id}${mark}  ${row.title} (${row.task})\n  input  ${row.input}, resize ${row.resize}\n  model  ${row.model.path}  ${state(row.model.present)}\n${row.labels ? `  labels ${row.labels.path}  ${state(row.labels.present)}\n` : ''}${row.engine ? `  engine ${row.engine.name}${row.engine.ready ? '' : ' (NOT READY)'}: ${row.engine.reason}\n` : ''}`,
    );
  }
  return 0;
}

export async function setupCommand(
  args: { offline?: boolean | undefined; quiet?: boolean | undefined; convert?: boolean | undefined },
  io: Io,
): Promise<number> {
  const report = await setup({
    offline: args.offline ?? false,
    quiet: args.quiet ?? false,
    onFile: (name, source, path) => {
      if (!args.quiet)
        io.stderr.write(
          `${source === 'cache' ? 'have   ' : source === 'upstream' ? 'fetched' : 'copied '} ${name} -> ${path}\n`,
        );
    },
  });
  if (!args.quiet) io.stderr.write(`set-up complete: ${report.files.length} files verified by sha256\n`);
  if (args.convert !== false) {
    // The native engine's models: converted from the .tflite files and checked against LiteRT.
    const { convertCatalog } = await import('../../src/convert/prepare.js');
    await convertCatalog(new ModelCatalog({ warmUp: false }), {
      onModel: (id, result, ms) => {
        if (!args.quiet)
          io.stderr.write(
            `${result.ok ? 'onnx   ' : 'litert '} ${id}: ${result.message} (${Math.round(ms)} ms)\n`,
          );
      },
    });
  }
  return 0;
}
