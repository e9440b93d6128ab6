/**
 * A repository model's descriptor. `DIR/<name>/config.yaml` is our model descriptor
 * (src/model/descriptor.ts: task, input, the task's section, wording) without what the layout
 * already says:
 *   - no `id`: the model's name is its folder's;
 *   - no `model.file`, `model.url` or `model.sha256`: the file is `<version>/model.tflite`,
 *     and its sha256 is computed when it is read (the repository watches it change);
 *     `model.outputs` (where the graph stops) stays allowed;
 *   - files the config names (labels) are relative to the model folder `DIR/<name>/`, shared
 *     by every version, as Triton keeps labels beside config.pbtxt.
 * Without a config.yaml the model is described from its own file: its first input must be an
 * image ([1, H, W, 3], uint8 or float32), and it is served as an `embed` model (a photo in, its
 * output as a vector out) and for raw tensors over the Open Inference Protocol.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { DescriptorError } from '../errors.js';
import { readTfliteModel, withModelErrors } from '../tflite/read.js';
import { TensorType } from '../tflite/schema.js';
import { type ModelDescriptor, parseDescriptor } from './descriptor.js';
import { CONFIG_FILE, MODEL_FILE } from './repository-layout.js';
import { ALL_VERSIONS, parseVersionPolicy, type VersionPolicy } from './repository-policy.js';

const require = createRequire(import.meta.url);
/** The same cap as a catalog descriptor's: a config is a few hundred bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Fields the layout decides; a config that sets them would be silently overruled, so it is refused. */
const LAYOUT_FIELDS = ['file', 'url', 'sha256'] as const;

function configObject(text: string, source: string): Record<string, unknown> {
  const { parse, YAMLParseError } = require('yaml') as typeof Yaml;
  let value: unknown;
  try {
    // maxAliasCount bounds the "billion laughs" expansion of aliases in a hostile file.
    value = parse(text, { maxAliasCount: 100 });
  } catch (cause) {
    const where = cause instanceof YAMLParseError ? ` at line ${cause.linePos?.[0].line ?? '?'}` : '';
    throw new DescriptorError(source, [`not valid YAML${where}: ${(cause as Error).message.split('\n')[0]}`]);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new DescriptorError(source, ['(top level): must be a mapping (task:, input:, ...)']);
  return value as Record<string, unknown>;
}

function layoutProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if ('id' in config) problems.push("id: not allowed here: a repository model's name is its folder's");
  const model = config.model;
  if (model !== undefined && (typeof model !== 'object' || model === null || Array.isArray(model))) {
    problems.push('model: must be a mapping (only model.outputs may be set here)');
  } else if (model) {
    for (const field of LAYOUT_FIELDS) {
      if (field in model)
        problems.push(
          `model.${field}: not allowed here: the model is <version>/${MODEL_FILE}, checked when it is read`,
        );
    }
  }
  return problems;
}

/** The descriptor of model `name` from its config.yaml's text (`versions:` checked, then set aside). */
export function descriptorFromConfig(name: string, text: string): ModelDescriptor {
  const source = `${name}/${CONFIG_FILE}`;
  const { versions, ...config } = configObject(text, source);
  const problems = layoutProblems(config);
  const policy = parseVersionPolicy(versions);
  if ('problem' in policy) problems.push(policy.problem);
  if (problems.length > 0) throw new DescriptorError(source, problems);
  const model = { ...(config.model as object | undefined), file: MODEL_FILE };
  return { ...parseDescriptor({ ...config, model }, source), id: name };
}

/**
 * The version policy a config.yaml's text says; every version when it says none or cannot be
 * read (then each version's check reports what is wrong with the config).
 */
export function policyFromConfig(name: string, text: string | undefined): VersionPolicy {
  if (text === undefined) return ALL_VERSIONS;
  try {
    const policy = parseVersionPolicy(configObject(text, `${name}/${CONFIG_FILE}`).versions);
    return 'policy' in policy ? policy.policy : ALL_VERSIONS;
  } catch {
    return ALL_VERSIONS;
  }
}

/** A configless model's descriptor, from its first input (an image, or the model is refused). */
export function descriptorFromModel(name: string, tflite: Uint8Array): ModelDescriptor {
  const label = `model '${name}' (${MODEL_FILE})`;
  const input = withModelErrors(label, () => {
    const model = readTfliteModel(tflite, label);
    const graph = model.subgraphs[0];
    const index = graph?.inputs[0];
    return index === undefined ? undefined : graph?.tensors[index];
  });
  const shape = input?.shape ?? [];
  const type = input?.type;
  const image =
    shape.length === 4 &&
    shape[0] === 1 &&
    shape[3] === 3 &&
    (type === TensorType.UINT8 || type === TensorType.FLOAT32);
  if (!input || !image)
    throw new DescriptorError(`${name}/${CONFIG_FILE}`, [
      `missing, and the model's first input is not an image ([1, H, W, 3], uint8 or float32): add a ${CONFIG_FILE} with its task and input`,
    ]);
  const described = parseDescriptor(
    {
      task: 'embed',
      model: { file: MODEL_FILE },
      input: {
        ...(input.name ? { name: input.name } : {}),
        width: shape[2],
        height: shape[1],
        format: type === TensorType.UINT8 ? 'rgb8' : 'rgb32f',
      },
    },
    `${name}/${CONFIG_FILE}`,
  );
  return { ...described, id: name };
}
