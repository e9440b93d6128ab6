/** The CLI's commands. Each returns its exit status; output goes to the streams it is given. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { CACHE_DIR } from '../../src/config/index.js';
import { readReport } from '../../src/convert/store.js';
import { plannedEngine } from '../../src/engine/select.js';
import { toTfliteFnError } from '../../src/errors.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { modelFileLimit } from '../../src/model/model-file.js';
import { servedModelKey } from '../../src/model/served-model.js';
import { bundledCacheDir, cacheDir } from '../../src/store/paths.js';
import { setup } from '../../src/store/setup.js';
import { taskById } from '../../src/tasks/index.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function modelsCommand(
  args: { json?: boolean | undefined; modelsDirs: readonly string[] },
  io: Io,
): Promise<number> {
  // A cache that cannot be used is one error for the command, not every model listed as invalid.
  cacheDir();
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
  args: {
    offline?: boolean | undefined;
    quiet?: boolean | undefined;
    convert?: boolean | undefined;
    bundle?: boolean | undefined;
  },
  io: Io,
): Promise<number> {
  // Everything below (fetches, conversions) follows cacheDir(): pointing it at the bundle
  // moves all of it there.
  if (args.bundle) CACHE_DIR.assign(bundledCacheDir());
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
  // onnxruntime-node is optional (package.json): without it there is nothing to verify a
  // conversion on, so one line says so instead of a failed verification per model.
  const ortMissing =
    args.convert === false
      ? undefined
      : await (await import('../../src/engine/ort-model.js')).loadOrt().then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
  if (ortMissing) io.stderr.write(`litert   every model, not converted: ${ortMissing}\n`);
  if (args.convert !== false && !ortMissing) {
    // The native engine's models: converted from the .tflite files and checked against LiteRT.
    const { convertCatalog } = await import('../../src/convert/prepare.js');
    await convertCatalog(new ModelCatalog({ warmUp: false }), {
      onModel: (id, result, ms) => {
        if (!args.quiet)
          io.stderr.write(
            `${result.ok ? 'onnx   ' : 'litert '} ${id}: ${result.message} (${Math.round(ms)} ms)\n` +
              (result.ok && result.batch
                ? `        batching ${result.batch.ok ? 'verified' : 'off'}: ${result.batch.message}\n`
                : ''),
          );
      },
    });
  }
  return 0;
}
