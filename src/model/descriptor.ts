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
import { basename, extname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Yaml from 'yaml';
import type * as Zod from 'zod';
import { DescriptorError } from '../errors.js';
import { RESIZE_MODES } from '../image/layout.js';

/**
 * zod and yaml take ~80 ms to load, a sixth of a cold start. Built-in descriptors are
 * validated at build time into a snapshot (see snapshotFile), so a process that uses only
 * those never loads either; they are required on first need, synchronously, from their
 * CommonJS builds.
 */
const require = createRequire(import.meta.url);
let schemaCache: ReturnType<typeof buildSchema> | undefined;

const FILE_RULE =
  "must name a file inside the descriptor's folder (or the set-up cache): a relative path without '..', or npm:<package>/<path>";

/**
 * Whether a descriptor's `file:` stays inside the folder it is looked up in: a relative path
 * with no '..' segment (either separator, for Windows), after an optional `npm:` prefix.
 * A user's descriptor folder must not let a model id open /etc/passwd. Symbolic links that
 * point out are refused where the file is found (see ModelCatalog.locate).
 */
export function staysInItsFolder(file: string): boolean {
  const path = file.startsWith('npm:') ? file.slice('npm:'.length) : file;
  if (path === '' || isAbsolute(path) || /^[\\/]|^[a-zA-Z]:/.test(path) || path.includes('\0')) return false;
  return !path.split(/[\\/]/).some((segment) => segment === '..');
}

function buildSchema() {
  const { z } = require('zod') as typeof Zod;

  const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

  /** A file the model needs; `sha256` and `url` let set-up fetch and verify it. */
  const fileRef = z.strictObject({
    file: z.string().min(1).refine(staysInItsFolder, FILE_RULE),
    sha256: sha256.optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
  });

  const triple = z.tuple([z.number(), z.number(), z.number()]);

  const schema = z.strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, dot, dash and underscore')
      .optional(),
    title: z.string().optional(),
    /** classify: one label per image (needs `output`); detect: boxes (needs `detect`). */
    task: z.enum(['classify', 'detect']).default('classify'),
    model: fileRef,
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
    output: z
      .strictObject({
        name: z.string().optional(),
        labels: fileRef,
        /** Output index i has label line i - label_offset (e.g. 1 when labels omit 'background'). */
        label_offset: z.int().default(0),
        top_k: z.int().positive().max(100).default(5),
        /** How to turn float outputs into scores in [0, 1]; uint8 outputs are read as value / 255. */
        activation: z.enum(['none', 'softmax', 'sigmoid']).default('none'),
      })
      .optional(),
    /**
     * Single-shot detectors in the SSD style of MediaPipe's BlazeFace: per anchor, box
     * regressors (centre offset, size, then keypoints) and one score logit. Anchors follow the
     * SSD anchor scheme the model was trained with.
     */
    detect: z
      .strictObject({
        regressors: z.string(),
        scores: z.string(),
        anchors: z.strictObject({
          strides: z.array(z.int().positive()).min(1),
          offset: z.number().default(0.5),
          /** Anchors per feature-map cell for each layer (BlazeFace: 2 short range, 1 full range). */
          per_cell: z.int().positive().default(2),
        }),
        keypoints: z.int().min(0).default(6),
        /** Sigmoid score a detection needs. */
        min_score: z.number().min(0).max(1).default(0.5),
        /** Boxes overlapping more than this (intersection over union) are merged. */
        iou_threshold: z.number().min(0).max(1).default(0.3),
      })
      .optional(),
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
  });
  const checked = schema.superRefine((descriptor, context) => {
    if (descriptor.task === 'classify' && !descriptor.output) {
      context.addIssue({
        code: 'custom',
        path: ['output'],
        message: 'a classify model needs an output section (labels)',
      });
    }
    if (descriptor.task === 'detect' && !descriptor.detect) {
      context.addIssue({
        code: 'custom',
        path: ['detect'],
        message: 'a detect model needs a detect section',
      });
    }
  });
  return { schema: checked, fileRef };
}

type Schema = ReturnType<typeof buildSchema>;
export type ModelDescriptor = Zod.output<Schema['schema']> & { id: string };
export type ClassifyDescriptor = ModelDescriptor & {
  task: 'classify';
  output: NonNullable<ModelDescriptor['output']>;
};
export type DetectDescriptor = ModelDescriptor & {
  task: 'detect';
  detect: NonNullable<ModelDescriptor['detect']>;
};

export function isClassifier(descriptor: ModelDescriptor): descriptor is ClassifyDescriptor {
  return descriptor.task === 'classify' && descriptor.output !== undefined;
}

/** Every file a model needs: the model itself and, for classifiers, the labels. */
export function filesOf(descriptor: ModelDescriptor): FileRef[] {
  return descriptor.output ? [descriptor.model, descriptor.output.labels] : [descriptor.model];
}

export function isDetector(descriptor: ModelDescriptor): descriptor is DetectDescriptor {
  return descriptor.task === 'detect' && descriptor.detect !== undefined;
}
export type FileRef = Zod.output<Schema['fileRef']>;

function schema() {
  schemaCache ??= buildSchema();
  return schemaCache.schema;
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
  const descriptor = result.data;
  const problems: string[] = [];
  const { very_likely, likely, could_be } = descriptor.wording;
  if (!(very_likely >= likely && likely >= could_be)) {
    problems.push('wording: thresholds must satisfy very_likely >= likely >= could_be');
  }
  if (problems.length > 0) throw new DescriptorError(source, problems);
  const id = descriptor.id ?? basename(source, extname(source));
  return { ...descriptor, id };
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
