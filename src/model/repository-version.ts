/**
 * Checking one version of a repository model before an engine sees it: every file is read
 * with a size cap (refused from its size first), the .tflite file goes through the structural
 * check (src/tflite/check.ts), the config is validated, the labels file it names must be inside
 * the model folder. The result pins the sha256 of the bytes checked, so the loader, which reads
 * the file again, refuses a file that changed in between instead of running unchecked bytes.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ModelLoadError, TfliteFnError } from '../errors.js';
import { taskById } from '../tasks/index.js';
import { assertTfliteIntegrity } from '../tflite/check.js';
import { readFileCapped } from '../util/read-capped.js';
import type { ModelDescriptor } from './descriptor.js';
import type { ModelFiles } from './load.js';
import { modelFileLimit, sha256Hex } from './model-file.js';
import { descriptorFromConfig, descriptorFromModel, MAX_CONFIG_BYTES } from './repository-config.js';
import { CONFIG_FILE, type FileStamp, MODEL_FILE, stampFile } from './repository-layout.js';

export interface PreparedVersion {
  readonly descriptor: ModelDescriptor;
  readonly files: ModelFiles;
  /** The sha256 of everything the version is made of (config, model, labels): equal means unchanged. */
  readonly contentKey: string;
}

export interface VersionFiles {
  /** The repository folder, links followed. */
  readonly root: string;
  readonly name: string;
  readonly version: string;
  /** The model folder, links followed. */
  readonly folder: string;
  readonly model: FileStamp;
  /** config.yaml, when there is one. */
  readonly config: FileStamp | undefined;
}

/** A file read with a cap, its failure said with the name it has in the repository. */
async function readCapped(
  path: string,
  shown: string,
  maxBytes: number,
  setting?: string,
): Promise<Uint8Array> {
  try {
    return await readFileCapped(path, { maxBytes, ...(setting ? { setting } : {}) });
  } catch (error) {
    const reason =
      error instanceof TfliteFnError && error.status === 413
        ? `is larger than ${maxBytes} bytes${setting ? ` (${setting})` : ''}`
        : 'cannot be read';
    throw new ModelLoadError(`${shown} ${reason}`, { cause: error });
  }
}

async function readLabels(
  files: VersionFiles,
  descriptor: ModelDescriptor,
): Promise<{ path?: string; bytes?: Uint8Array }> {
  const ref = taskById(descriptor.task).labelsOf?.(descriptor);
  if (!ref) return {};
  // The schema has refused '..' and absolute paths; links out of DIR are refused here.
  const shown = `${files.name}/${ref.file}`;
  const found = await stampFile(files.root, join(files.folder, ref.file), shown);
  if ('problem' in found) throw new ModelLoadError(`model '${files.name}': its labels file ${found.problem}`);
  const limit = modelFileLimit();
  return {
    path: found.ok.path,
    bytes: await readCapped(found.ok.path, shown, limit.maxBytes, limit.setting),
  };
}

export async function prepareVersion(files: VersionFiles): Promise<PreparedVersion> {
  const { name, version } = files;
  const shownModel = `${name}/${version}/${MODEL_FILE}`;
  const limit = modelFileLimit();
  if (files.model.size > limit.maxBytes)
    throw new ModelLoadError(`${shownModel} is larger than ${limit.maxBytes} bytes (${limit.setting})`);
  const tflite = await readCapped(files.model.path, shownModel, limit.maxBytes, limit.setting);
  assertTfliteIntegrity(tflite, `model '${name}' version ${version} (${MODEL_FILE})`);
  const configBytes = files.config
    ? await readCapped(files.config.path, `${name}/${CONFIG_FILE}`, MAX_CONFIG_BYTES)
    : undefined;
  const described = configBytes
    ? descriptorFromConfig(name, new TextDecoder().decode(configBytes))
    : descriptorFromModel(name, tflite);
  const modelSha256 = sha256Hex(tflite);
  const descriptor = { ...described, model: { ...described.model, sha256: modelSha256 } };
  const labels = await readLabels(files, descriptor);
  const content = createHash('sha256').update(modelSha256);
  for (const part of [configBytes, labels.bytes]) content.update(part ? sha256Hex(part) : '-');
  return {
    descriptor,
    files: { model: files.model.path, labels: labels.path },
    contentKey: content.digest('hex'),
  };
}
