/**
 * `npm run layer [-- --arch x86_64|arm64] [--model-repository DIR]`: builds the tflite-fn Lambda
 * layer per architecture.
 *
 *   build/layers/<arch>/nodejs/node_modules/
 *     tflite-fn/      the core and the Lambda adapter (compiled JS), descriptors, model files,
 *                     and the models converted to ONNX and verified ahead of time (.cache/onnx):
 *                     the built-in ones, and the versions of the model repository DIR, which
 *                     the function package ships (serverless.yml's modelRepository)
 *     sharp/, @img/   sharp with the prebuilt libvips of that architecture only
 *     @litertjs/      LiteRT.js with the two wasm builds we use (single- and multi-threaded)
 *     onnxruntime-node/  the native engine, its linux binary for that architecture only
 *     hono/, yaml/, zod/
 *   build/layers/tflite-fn-layer-<arch>.zip
 *
 * Then it unzips the zip into a stand-in /opt and, for the machine's own architecture, runs
 * the function package (handler.mjs) from an empty task folder with NODE_PATH pointing into
 * it, under a runtime polling a local Runtime API as Lambda does (smoke.ts): a classification
 * of grace_hopper.jpg must come back. For the other
 * architecture it checks the native binaries are built for it (ELF machine field).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch as hostArch, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  assertPackageFits,
  folderBytes,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
  PackageTooLargeError,
} from '../scripts/function-size.js';
import { convertCatalog } from '../src/convert/prepare.js';
import { type ConversionReport, convertedDir } from '../src/convert/store.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { filesOf } from '../src/model/descriptor.js';
import { convertRepository } from '../src/model/repository-convert.js';
import { bundledCacheDir, packageRoot, sampleCacheDir } from '../src/store/paths.js';
import { createProgress } from '../src/util/progress.js';
import { FUNCTION_FILES } from './function-package.js';
import { RIC_VARIABLE, realRuntimeClient } from './lambda-run.js';

export type LambdaArch = 'x86_64' | 'arm64';
const NPM_CPU: Record<LambdaArch, string> = { x86_64: 'x64', arm64: 'arm64' };
/** ELF e_machine values: what a native binary must say it is built for. */
const ELF_MACHINE: Record<LambdaArch, number> = { x86_64: 62, arm64: 183 };

/** What the layer's node_modules must hold besides tflite-fn: our runtime dependencies. */
const RUNTIME_DEPENDENCIES = ['sharp', '@litertjs/core', 'onnxruntime-node', 'hono', 'yaml', 'zod'];
/** LiteRT builds we never load (see src/engine/litert-runtime.ts): compat needs no relaxed SIMD, JSPI is browser-only. */
const UNUSED_LITERT_BUILDS = /^litert_wasm_(compat|jspi)_internal\./;
/**
 * What the layer does not need: TypeScript (types, and sources such as zod's src/ with its
 * tests: Node runs none of it), source maps, docs, C++ sources and build scripts.
 */
const PRUNE_FILE = /(\.[cm]?tsx?|\.map|\.md|\.markdown|\.tsbuildinfo|metafile-esm\.json)$/i;
/**
 * Folders pruned at a package's root only (beside its package.json): deeper, a folder of these
 * names can be code (yaml's dist/doc/ holds its document model, which config.yaml parsing needs).
 */
const PRUNE_DIR = new Set(['test', 'tests', 'docs', 'doc', 'example', 'examples', '.github']);

const root = packageRoot();

function installedVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

function walk(dir: string, visit: (path: string, isDir: boolean) => boolean | undefined): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const isDir = statSync(path).isDirectory();
    if (visit(path, isDir) === false) continue;
    if (isDir) walk(path, visit);
  }
}

/** onnxruntime-node ships every OS and CPU (~290 MB); Lambda needs one linux folder. */
function pruneOrtBinaries(modules: string, arch: LambdaArch): void {
  const bin = join(modules, 'onnxruntime-node', 'bin');
  for (const napi of readdirSync(bin)) {
    for (const os of readdirSync(join(bin, napi))) {
      for (const cpu of readdirSync(join(bin, napi, os))) {
        if (os !== 'linux' || cpu !== NPM_CPU[arch]) rmSync(join(bin, napi, os, cpu), { recursive: true });
      }
      if (readdirSync(join(bin, napi, os)).length === 0) rmSync(join(bin, napi, os), { recursive: true });
    }
  }
}

function prune(modules: string): number {
  let removed = 0;
  walk(modules, (path, isDir) => {
    const name = basename(path);
    const remove =
      (isDir && PRUNE_DIR.has(name) && existsSync(join(dirname(path), 'package.json'))) ||
      (!isDir && PRUNE_FILE.test(name) && !/^licen[cs]e/i.test(name)) ||
      (!isDir &&
        dirname(path).endsWith(join('@litertjs', 'core', 'wasm')) &&
        UNUSED_LITERT_BUILDS.test(name)) ||
      (isDir && (path.endsWith(join('sharp', 'src')) || path.endsWith(join('sharp', 'install'))));
    if (!remove) return true;
    rmSync(path, { recursive: true, force: true });
    removed++;
    return false;
  });
  return removed;
}

/** Our own package: compiled core and Lambda adapter, descriptors, and the model files they pin. */
function copySelf(target: string, conversions: readonly ConversionReport[]): void {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { scripts: _scripts, devDependencies: _dev, ...runtimeManifest } = manifest;
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'package.json'), `${JSON.stringify(runtimeManifest, null, 2)}\n`);
  cpSync(join(root, 'dist', 'src'), join(target, 'dist', 'src'), { recursive: true });
  cpSync(join(root, 'dist', 'handlers', 'aws-lambda'), join(target, 'dist', 'handlers', 'aws-lambda'), {
    recursive: true,
  });
  cpSync(join(root, 'models'), join(target, 'models'), { recursive: true });
  const catalog = new ModelCatalog({ warmUp: false });
  const cache = join(bundledCacheDir(target), 'models');
  mkdirSync(cache, { recursive: true });
  for (const entry of catalog.entries().filter((e) => e.builtin)) {
    if (!entry.descriptor) throw new Error(`built-in model ${entry.id} has an invalid descriptor`);
    for (const ref of filesOf(entry.descriptor)) {
      const { path } = catalog.locate(entry, ref);
      if (!existsSync(path)) throw new Error(`${path} is missing: run npx tflite-fn setup first`);
      // A file from an npm package goes where Node would find that package from the core.
      const destination = ref.file.startsWith('npm:')
        ? join(dirname(target), ref.file.slice(4))
        : join(cache, ref.file);
      mkdirSync(dirname(destination), { recursive: true });
      copyFileSync(path, destination);
    }
  }
  // The converted models (and their reports), so the function starts on the native engine
  // without converting anything: converted and verified here, at build time.
  const onnx = join(bundledCacheDir(target), 'onnx');
  mkdirSync(onnx, { recursive: true });
  for (const report of conversions) {
    const base = join(convertedDir(), `${report.tfliteSha256}-c${report.converterVersion}`);
    copyFileSync(`${base}.json`, join(onnx, basename(`${base}.json`)));
    if (report.ok) copyFileSync(`${base}.onnx`, join(onnx, basename(`${base}.onnx`)));
  }
}

function elfMachine(path: string): number {
  const header = readFileSync(path).subarray(0, 20);
  return header.readUInt16LE(18);
}

function checkNativeBinaries(modules: string, arch: LambdaArch): string[] {
  const binaries: string[] = [];
  walk(join(modules, '@img'), (path, isDir) => {
    if (!isDir && /\.(node|so(\.\d+)*)$/.test(path)) binaries.push(path);
    return true;
  });
  if (binaries.length === 0) throw new Error(`no sharp binaries for ${arch} in the layer`);
  const ort = join(modules, 'onnxruntime-node', 'bin');
  const ortBinaries: string[] = [];
  walk(ort, (path, isDir) => {
    if (!isDir && /\.(node|so(\.\d+)*)$/.test(path)) ortBinaries.push(path);
    return true;
  });
  if (ortBinaries.length === 0) throw new Error(`no onnxruntime binaries for ${arch} in the layer`);
  binaries.push(...ortBinaries);
  for (const binary of binaries) {
    if (elfMachine(binary) !== ELF_MACHINE[arch]) throw new Error(`${binary} is not built for ${arch}`);
  }
  const others = readdirSync(join(modules, '@img')).filter(
    (name) => name.startsWith('sharp-') && !name.endsWith(`linux-${NPM_CPU[arch]}`),
  );
  if (others.length > 0) throw new Error(`binaries for other platforms in the layer: ${others.join(', ')}`);
  return binaries;
}

export interface LayerBuild {
  readonly arch: LambdaArch;
  readonly zip: string;
  readonly zipBytes: number;
  readonly unpackedDir: string;
}

/**
 * A model repository's versions converted and verified (tflite-fn convert --model-repository;
 * stored in the cache, so done once). The function package holds the repository, but the
 * engine looks for conversions in the core's cache, which is in the layer. A version that did
 * not convert is left out: it runs on LiteRT.
 */
async function repositoryConversions(dir: string | undefined): Promise<ConversionReport[]> {
  if (!dir) return [];
  const done = await convertRepository(resolve(dir));
  return done.flatMap((version) => (version.report?.ok ? [version.report] : []));
}

/**
 * Lambda counts the function's files and its layers' unzipped together: the layer, plus the
 * model repository the function package ships (its handler files are a few kB). Over the limit,
 * PackageTooLargeError says so in one line, with the repository's part.
 */
export function checkUnzippedSize(layerDir: string, modelRepository: string | undefined): void {
  const repository = modelRepository
    ? { folder: basename(resolve(modelRepository)), bytes: folderBytes(resolve(modelRepository)) }
    : undefined;
  assertPackageFits({
    platform: 'Lambda',
    what: `layer ${basename(layerDir)}${repository ? ' with the model repository' : ''} (unzipped)`,
    bytes: folderBytes(layerDir) + (repository?.bytes ?? 0),
    limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES,
    ...(repository ? { repository } : {}),
  });
}

export async function buildLayer(
  arch: LambdaArch,
  outDir = join(root, 'build', 'layers'),
  options: { readonly modelRepository?: string } = {},
): Promise<LayerBuild> {
  // Ahead of time: every built-in model converted to ONNX and verified (cached after the first
  // build, or done already by set-up), and the model repository's versions.
  const conversions = [
    ...(await convertCatalog(new ModelCatalog({ warmUp: false }))),
    ...(await repositoryConversions(options.modelRepository)),
  ];
  const dir = join(outDir, arch);
  const nodejs = join(dir, 'nodejs');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(nodejs, { recursive: true });
  const dependencies = Object.fromEntries(RUNTIME_DEPENDENCIES.map((name) => [name, installedVersion(name)]));
  writeFileSync(
    join(nodejs, 'package.json'),
    `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`,
  );
  // npm picks sharp's prebuilt packages by --os/--cpu/--libc; Lambda is glibc Linux.
  run(
    'npm',
    [
      'install',
      '--omit=dev',
      '--os=linux',
      `--cpu=${NPM_CPU[arch]}`,
      '--libc=glibc',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
    ],
    nodejs,
  );
  rmSync(join(nodejs, 'package.json'));
  const modules = join(nodejs, 'node_modules');
  copySelf(join(modules, 'tflite-fn'), conversions);
  pruneOrtBinaries(modules, arch);
  prune(modules);
  checkNativeBinaries(modules, arch);

  const zip = join(outDir, `tflite-fn-layer-${arch}.zip`);
  rmSync(zip, { force: true });
  // -X: no extra file attributes, so the same input gives the same zip.
  run('zip', ['-q', '-r', '-9', '-X', zip, 'nodejs'], dir);
  checkUnzippedSize(dir, options.modelRepository);
  return { arch, zip, zipBytes: statSync(zip).size, unpackedDir: dir };
}

/**
 * Refuses a stand-in /opt or task folder inside a package or beside a node_modules: Node would
 * resolve from there what Lambda cannot (the project's own `tflite-fn`, by self-reference
 * through its package.json "exports", or a dependency the layer forgot), and a test would pass
 * on the project instead of the layer.
 */
function assertOutsidePackages(dir: string): void {
  for (let at = dirname(resolve(dir)); ; at = dirname(at)) {
    for (const marker of ['package.json', 'node_modules'])
      if (existsSync(join(at, marker)))
        throw new Error(`${dir} is below ${join(at, marker)}: Lambda's folders must resolve nothing from it`);
    if (dirname(at) === at) return;
  }
}

/** A new empty folder in the temporary folder, checked to be outside every package. */
function isolatedDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  assertOutsidePackages(dir);
  return dir;
}

/** Unzips the layer as Lambda does into a stand-in /opt of its own, and returns its node_modules. */
export function unzipLayer(zip: string, label: string): string {
  const opt = isolatedDir(`tflite-fn-opt-${label}-`);
  run('unzip', ['-q', zip, '-d', opt], opt);
  return join(opt, 'nodejs', 'node_modules');
}

/**
 * A Lambda task folder of its own holding only the function package (at the paths the zip has
 * it) and nothing that could resolve tflite-fn except NODE_PATH.
 */
export function functionTaskDir(label: string): string {
  const dir = isolatedDir(`tflite-fn-task-${label}-`);
  for (const file of FUNCTION_FILES) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    copyFileSync(join(root, file), join(dir, file));
  }
  return dir;
}

/**
 * Runs layers/smoke.js in a fresh process as Lambda would: NODE_PATH=<opt>/nodejs/node_modules,
 * no HOME (only the temporary folder is writable there). The output ends with smoke's report.
 */
export function smokeTest(
  layerModules: string,
  taskDir: string,
  extraEnv: Record<string, string> = {},
): { ok: boolean; output: string } {
  const smoke = join(root, 'dist', 'layers', 'smoke.js');
  const photo = join(sampleCacheDir(), 'grace_hopper.jpg');
  const result = spawnSync(process.execPath, [smoke, taskDir, photo], {
    cwd: taskDir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: layerModules,
      ...(realRuntimeClient() ? { [RIC_VARIABLE]: realRuntimeClient() as string } : {}),
      ...extraEnv,
    },
    encoding: 'utf8',
  });
  return { ok: result.status === 0, output: `${result.stderr}${result.stdout}`.trim() };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { arch: { type: 'string', multiple: true }, 'model-repository': { type: 'string' } },
  });
  const modelRepository = values['model-repository'];
  const arches = (values.arch ?? ['x86_64', 'arm64']) as LambdaArch[];
  const host: LambdaArch | undefined =
    hostArch() === 'x64' ? 'x86_64' : hostArch() === 'arm64' ? 'arm64' : undefined;
  const progress = createProgress('layer', arches.length * 2);
  let step = 0;
  const lines: string[] = [];
  let failed = false;
  for (const arch of arches) {
    if (!(arch in NPM_CPU)) throw new Error(`--arch must be x86_64 or arm64, got ${arch}`);
    let build: LayerBuild;
    try {
      build = await buildLayer(arch, undefined, modelRepository ? { modelRepository } : {});
    } catch (error) {
      if (!(error instanceof PackageTooLargeError)) throw error;
      progress.finish();
      console.error(`layer: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    progress.update(++step);
    const opt = unzipLayer(build.zip, arch);
    let smoke = 'binaries checked for this architecture (cannot run them on this machine)';
    if (arch === host) {
      const result = smokeTest(opt, functionTaskDir(arch));
      smoke = result.ok
        ? `smoke test ok: ${result.output.split('\n').pop()}`
        : `SMOKE TEST FAILED:\n${result.output}`;
      failed ||= !result.ok;
    }
    progress.update(++step);
    lines.push(`${build.zip}  ${mb(build.zipBytes)}\n  ${smoke}`);
  }
  progress.finish();
  console.log(lines.join('\n'));
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && basename(process.argv[1]) === 'build.js') await main();
