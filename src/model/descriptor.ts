/**
 * Model descriptors: one YAML file per model, saying which file to run and how to feed it and
 * read it. In the spirit of WasmEdge's classify_yml examples, e.g.
 *
 *   id: imagenet
 *   title: ImageNet, MobileNet V2 1.0 224 (uint8)
 *   task: classify
 *   model: { file: mobilenet_v2_1.0_224_quant.tflite, sha256: ..., url: https://... }
 *   input: { name: input, width: 224, height: 224, format: rgb8 }
 *   output: { name: MobilenetV2/Predictions/Softmax, labels: { file: imagenet_labels.txt } }
 *
 * Validation reports every problem at once, each with its path (`input.width: ...`), so a
 * user fixes a descriptor in one go.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Yaml from 'yaml';
import type * as Zod from 'zod';
import { BATCH_LIMITS, DEFAULT_BATCH_DELAY_MS } from '../batch/settings.js';
import { DescriptorError } from '../errors.js';
import { RESIZE_MODES } from '../image/layout.js';
import { TASKS } from '../tasks/index.js';
import { type FileRef, fileRefSchema } from './file-ref.js';

export { type FileRef, staysInItsFolder } from './file-ref.js';

/**
 * zod and yaml take ~80 ms to load, a sixth of a cold start. Built-in descriptors are
 * validated at build time into a snapshot (see snapshotFile), so a process that uses only
 * those never loads either; they are required on first need, synchronously, from their
 * CommonJS builds.
 */
const require = createRequire(import.meta.url);
let schemaCache: Zod.ZodType | undefined;

/** What every descriptor has, whatever its task; each task adds its own section (see TASKS). */
function sharedShape(z: typeof Zod.z) {
  const triple = z.tuple([z.number(), z.number(), z.number()]);
  return {
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, dot, dash and underscore')
      .optional(),
    title: z.string().optional(),
    /** Which task the model serves (TASKS' ids); its section is required unless optional. */
    task: z.string(),
    model: fileRefSchema(z).extend({
      /**
       * Where the graph stops: these tensors become the model's outputs, in this order, and the
       * operators after them are dropped (for tails an engine cannot run; the task does the
       * rest). See src/model/served-model.ts.
       */
      outputs: z.array(z.string().min(1)).min(1).optional(),
    }),
    input: z.strictObject({
      /** Checked against the model; optional because single-input models need no name. */
      name: z.string().optional(),
      width: z.int().positive().max(4096),
      height: z.int().positive().max(4096),
      format: z.enum(['rgb8', 'bgr8', 'rgb32f', 'bgr32f']).default('rgb8'),
      /** RGB order. Float formats compute (pixel - mean) / std; defaults give pixel / 255. */
      mean: triple.default([0, 0, 0]),
      std: triple
        .refine((values) => values.every((v) => v !== 0), 'std values must not be 0')
        .default([255, 255, 255]),
      resize: z.enum(RESIZE_MODES).default('cover'),
    }),
    /**
     * Thresholds on the 0-255 score scale of the WasmEdge examples (for uint8 outputs that is
     * the raw output value): above `very_likely` the sentence says "is very likely", and so on.
     */
    wording: z
      .strictObject({
        very_likely: z.number().min(0).max(255).default(200),
        likely: z.number().min(0).max(255).default(125),
        could_be: z.number().min(0).max(255).default(50),
      })
      .prefault({}),
    /**
     * Dynamic batching for this model (src/batch): concurrent requests gathered into one
     * engine call of at most `max_size` items, the first waiting at most `max_queue_delay_ms`
     * for company. Absent: every request runs alone. The server's TFLITE_FN_BATCH_* variables
     * override it (src/batch/settings.ts decides).
     */
    batch: z
      .strictObject({
        max_size: z.int().min(1).max(BATCH_LIMITS.maxBatchSize),
        max_queue_delay_ms: z.int().min(0).max(BATCH_LIMITS.maxQueueDelayMs).default(DEFAULT_BATCH_DELAY_MS),
      })
      .optional(),
  };
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** The shared fields, `task:` one of TASKS' ids, and every task's section (optional here). */
function buildSchema(): Zod.ZodType {
  const { z } = require('zod') as typeof Zod;
  const ids = TASKS.map((task) => task.id) as [string, ...string[]];
  const sections: Record<string, Zod.ZodType> = {};
  for (const task of TASKS) {
    if (task.section) sections[task.section.key] = task.section.schema(z).optional();
  }
  const schema = z.strictObject({ ...sharedShape(z), task: z.enum(ids).default('classify'), ...sections });
  return schema.superRefine((descriptor, context) => {
    const task = TASKS.find((candidate) => candidate.id === descriptor.task);
    const section = task?.section;
    if (!section || section.optional || (descriptor as Record<string, unknown>)[section.key] !== undefined)
      return;
    context.addIssue({
      code: 'custom',
      path: [section.key],
      message: `${article(descriptor.task)} ${descriptor.task} model needs ${article(section.key)} ${section.key} section`,
    });
  });
}

type Shared = Zod.output<Zod.ZodObject<ReturnType<typeof sharedShape>>>;

/**
 * A validated descriptor: the shared fields, typed, and the task's section under its key,
 * which the task reads and casts to its own type (see src/tasks/<id>/).
 */
export type ModelDescriptor = Shared & { readonly id: string; readonly [section: string]: unknown };

/** Every file a model needs: the model itself and its task's labels, if any. */
export function filesOf(descriptor: ModelDescriptor): FileRef[] {
  const task = TASKS.find((candidate) => candidate.id === descriptor.task);
  const labels = task?.labelsOf?.(descriptor);
  return labels ? [descriptor.model, labels] : [descriptor.model];
}

function schema() {
  schemaCache ??= buildSchema();
  return schemaCache;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/** Validates already-parsed YAML/JSON; `source` names the file in error messages. */
export function parseDescriptor(value: unknown, source: string): ModelDescriptor {
  const result = schema().safeParse(value);
  if (!result.success) {
    throw new DescriptorError(
      source,
      result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`),
    );
  }
  const descriptor = result.data as Shared & Record<string, unknown>;
  const problems: string[] = [];
  const { very_likely, likely, could_be } = descriptor.wording;
  if (!(very_likely >= likely && likely >= could_be)) {
    problems.push('wording: thresholds must satisfy very_likely >= likely >= could_be');
  }
  if (problems.length > 0) throw new DescriptorError(source, problems);
  const id = descriptor.id ?? basename(source, extname(source));
  return { ...descriptor, id } as ModelDescriptor;
}

/**
 * Built-in descriptors as validated at build time, keyed by the sha256 of the YAML text: a
 * descriptor edited since the build no longer matches and is parsed the slow way.
 */
export function snapshotFile(): string {
  return fileURLToPath(new URL('./builtin-descriptors.json', import.meta.url));
}

let snapshot: Record<string, unknown> | undefined;

function fromSnapshot(text: string): ModelDescriptor | undefined {
  if (!snapshot) {
    try {
      snapshot = JSON.parse(readFileSync(snapshotFile(), 'utf8')) as Record<string, unknown>;
    } catch {
      snapshot = {};
    }
  }
  const key = createHash('sha256').update(text).digest('hex');
  return snapshot[key] as ModelDescriptor | undefined;
}

/** Parses YAML text and validates it; `file` names it in messages and gives the default id. */
export function parseDescriptorText(text: string, file: string): ModelDescriptor {
  const { parse, YAMLParseError } = require('yaml') as typeof Yaml;
  let value: unknown;
  try {
    value = parse(text);
  } catch (cause) {
    const where = cause instanceof YAMLParseError ? ` at line ${cause.linePos?.[0].line ?? '?'}` : '';
    throw new DescriptorError(file, [`not valid YAML${where}: ${(cause as Error).message.split('\n')[0]}`]);
  }
  return parseDescriptor(value, file);
}

const MAX_DESCRIPTOR_BYTES = 1024 * 1024;

/** Reads and validates a descriptor file (synchronously: they are tiny, read once at start). */
export function readDescriptor(file: string): ModelDescriptor {
  let text: string;
  try {
    // A descriptor is a few hundred bytes; a link to /dev/zero or a huge file is not one.
    const stats = statSync(file);
    if (!stats.isFile() || stats.size > MAX_DESCRIPTOR_BYTES)
      throw new DescriptorError(basename(file), [
        `not a descriptor: not a file of at most ${MAX_DESCRIPTOR_BYTES} bytes`,
      ]);
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof DescriptorError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new DescriptorError(basename(file), [`cannot read the file${code ? ` (${code})` : ''}`]);
  }
  const known = fromSnapshot(text);
  // The id defaults to the file name, which the snapshot cannot know for a renamed copy.
  if (known && (known.id === basename(file, extname(file)) || /^id:/m.test(text))) return known;
  // Messages name the descriptor by its file name: they reach HTTP clients (a model with an
  // invalid descriptor is listed, and asking for it says why), host paths must not.
  return parseDescriptorText(text, basename(file));
}
