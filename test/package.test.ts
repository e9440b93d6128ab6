/**
 * The npm package as a user meets it: `npm pack` from this clone, then a new project in a
 * temporary folder, with a fresh HOME and npm cache, installs the tarball from the public
 * registry (nothing else is reached: no install script may download anything), and uses it:
 * `npx tflite-fn < photo.jpg`, `import { classify } from 'tflite-fn'` in ESM, its types under
 * tsc, and every subpath export answering a real request. Models come from the mirror folder
 * (TFLITE_FN_SHARED_DIR, as CI sets it) into the per-user cache of that fresh HOME.
 *
 * Slow (a minute or two: npm downloads sharp, LiteRT and the rest into an empty cache); it is
 * part of the full suite only.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TARBALL_LIMIT_BYTES } from '../bench/package-size.js';
import { packageRoot, sharedDataDir } from '../src/store/paths.js';
import { CLASSIC_GRACE_HOPPER, IMAGES } from './helpers.js';

const ROOT = packageRoot();
const GRACE = join(IMAGES, 'grace_hopper.jpg');
/** Generous: npm fetches ~60 MB into an empty cache; the bound only stops a hung install. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdinFile?: string; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdinFile ? readFileSync(options.stdinFile) : undefined);
  });
}

/** What `git status` says about the clone: packing must leave it as it was. */
function treeState(): string {
  return execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

/**
 * A user's environment: PATH and network proxies only, a fresh HOME and npm cache, the
 * registry this machine uses, and the mirror folder. Nothing from this clone's npm config or
 * from `npm test` (npm_config_*, TFLITE_FN_CACHE_DIR) leaks in.
 */
function userEnv(base: string, registry: string): NodeJS.ProcessEnv {
  const passed = Object.entries(process.env).filter(([name]) =>
    /^(PATH|LANG|LC_ALL|TZ|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY)$/.test(name),
  );
  return {
    ...Object.fromEntries(passed),
    HOME: join(base, 'home'),
    npm_config_cache: join(base, 'npm-cache'),
    npm_config_registry: registry,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    TFLITE_FN_SHARED_DIR: sharedDataDir(),
  };
}

describe('the npm package, installed from its tarball into a new project', { timeout: 20 * 60_000 }, () => {
  let base = '';
  let project = '';
  let tarball = '';
  let env: NodeJS.ProcessEnv = {};
  let install: Run = { status: null, stdout: '', stderr: '' };

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'src', 'index.js')), 'build first: npm run build');
    base = mkdtempSync(join(tmpdir(), 'tflite-fn-package-'));
    mkdirSync(join(base, 'home'));
    const registry = execFileSync('npm', ['config', 'get', 'registry'], {
      cwd: base,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    env = userEnv(base, registry);
    const treeBefore = treeState();
    // --ignore-scripts: `prepack` would build again; the build is there.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', base], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_update_notifier: 'false' },
      }),
    ) as { filename: string }[];
    assert.equal(treeState(), treeBefore, 'npm pack left the working tree as it was');
    tarball = join(base, (packed[0] as { filename: string }).filename);
    project = join(base, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'a-user-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    // @types/node: what any TypeScript project on Node has, for the tsc check below.
    install = await run('npm', ['install', tarball, '@types/node@^20'], {
      cwd: project,
      env,
      timeoutMs: INSTALL_TIMEOUT_MS,
    });
  });

  after(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('the tarball holds the compiled package, its descriptors, README, the docs README links and LICENSE: no tests, benchmarks, sources or source maps', (t) => {
    const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const needed of [
      'package/package.json',
      'package/LICENSE',
      'package/README.md',
      'package/docs/reference.md',
      'package/dist/src/index.js',
      'package/dist/src/index.d.ts',
      'package/dist/handlers/cli/main.js',
      'package/models/imagenet.yaml',
    ])
      assert.ok(entries.includes(needed), needed);
    const unwanted = entries.filter(
      (entry) =>
        /\.map$|\.ts$(?<!\.d\.ts)/.test(entry) ||
        /^package\/(test|bench|layers|scripts|src|handlers|api|netlify|platforms|\.cache)\//.test(entry) ||
        /^package\/dist\/(test|bench|layers|scripts|api|netlify)\//.test(entry),
    );
    assert.deepEqual(unwanted, []);
    const bytes = statSync(tarball).size;
    t.diagnostic(`tarball ${bytes} bytes, ${entries.length} files`);
    assert.ok(bytes < TARBALL_LIMIT_BYTES, `${bytes} bytes: what grew?`);
  });

  it('installs with nothing but the registry: onnxruntime-node is optional, so its CUDA download cannot fail the install', (t) => {
    assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`);
    assert.ok(existsSync(join(project, 'node_modules', 'tflite-fn', 'dist', 'src', 'index.js')));
    assert.ok(existsSync(join(project, 'node_modules', '.bin', 'tflite-fn')));
    const ort = existsSync(join(project, 'node_modules', 'onnxruntime-node', 'package.json'));
    t.diagnostic(
      ort
        ? 'onnxruntime-node installed (its install script reached its download site)'
        : 'onnxruntime-node left out (its install script could not download; models run on litert)',
    );
  });

  it("runs no script of its own in a user's install, so npm's allowScripts advisory has nothing of ours to list", () => {
    // npm 11.16+ lists, as scripts the user's allowScripts must cover, a dependency's
    // preinstall, install and postinstall, and its prepare when it comes from outside the
    // registry (a tarball like this one, a folder, git). The clone's own set-up is
    // postprepare, which npm runs only in the project being installed, never in a dependency.
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    ) as { scripts?: Record<string, string> };
    const installTime = ['preinstall', 'install', 'postinstall', 'prepare'].filter(
      (event) => manifest.scripts?.[event] !== undefined,
    );
    assert.deepEqual(installTime, []);
    const ours = `${install.stdout}\n${install.stderr}`
      .split('\n')
      .filter((line) => /tflite-fn@\S+ \(/.test(line));
    assert.deepEqual(ours, [], install.stderr);
  });

  it('npx tflite-fn < grace_hopper.jpg prints the classic sentence, the models fetched on first use into ~/.cache/tflite-fn', async () => {
    const answer = await run('npx', ['tflite-fn'], { cwd: project, env, stdinFile: GRACE });
    assert.equal(answer.status, 0, answer.stderr);
    assert.equal(answer.stdout, `${CLASSIC_GRACE_HOPPER}\n`);
    assert.match(answer.stderr, /first use of mobilenet_v2_1\.0_224_quant\.tflite/);
    const models = join(base, 'home', '.cache', 'tflite-fn', 'models');
    assert.ok(readdirSync(models).includes('mobilenet_v2_1.0_224_quant.tflite'), models);
    assert.equal(
      existsSync(join(project, 'node_modules', 'tflite-fn', '.cache')),
      false,
      'nothing under node_modules',
    );
  });

  it('npx tflite-fn setup fetches every model; without onnxruntime-node it says so in one line and converts nothing', async () => {
    const ort = existsSync(join(project, 'node_modules', 'onnxruntime-node', 'package.json'));
    const setup = await run('npx', ['tflite-fn', 'setup', '--quiet'], {
      cwd: project,
      env,
      timeoutMs: 600_000,
    });
    assert.equal(setup.status, 0, setup.stderr);
    const converted = join(base, 'home', '.cache', 'tflite-fn', 'onnx');
    if (ort) {
      assert.ok(readdirSync(converted).some((name) => name.endsWith('.onnx')));
      return;
    }
    const lines = setup.stderr.split('\n').filter((line) => line.includes('onnxruntime'));
    assert.equal(lines.length, 1, setup.stderr);
    assert.match(
      lines[0] as string,
      /^litert {3}every model, not converted: onnxruntime-node could not be loaded .*npm install onnxruntime-node --onnxruntime-node-install=skip, then npx tflite-fn setup$/,
    );
    assert.equal(existsSync(converted), false);
  });

  it("ESM: classify from 'tflite-fn', and each subpath export (http, aws-lambda, vercel, netlify) answers a real request", async () => {
    writeFileSync(
      join(project, 'use.mjs'),
      `import { readFileSync } from 'node:fs';
import { classify, detect } from 'tflite-fn';
import { createApp } from 'tflite-fn/http';
import { initLambdaHandler } from 'tflite-fn/aws-lambda';
import { POST } from 'tflite-fn/vercel';
import netlify from 'tflite-fn/netlify';

const photo = readFileSync(process.argv[2]);
const request = () =>
  new Request('http://localhost/classify', { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } });
const lambda = await initLambdaHandler();
const labels = {
  library: (await classify(photo)).label,
  http: (await (await createApp().fetch(request())).json()).label,
  lambda: (await lambda({ image: photo.toString('base64') })).label,
  vercel: (await (await POST(request())).json()).label,
  netlify: (await (await netlify(request(), {})).json()).label,
  detect: typeof detect,
};
console.log(JSON.stringify(labels));
`,
    );
    const answer = await run(process.execPath, ['use.mjs', GRACE], { cwd: project, env });
    assert.equal(answer.status, 0, answer.stderr);
    const label = 'military uniform';
    assert.deepEqual(JSON.parse(answer.stdout), {
      library: label,
      http: label,
      lambda: label,
      vercel: label,
      netlify: label,
      detect: 'function',
    });
  });

  it('TypeScript: tsc type-checks a file using the package and its subpaths (and rejects a wrong type)', async () => {
    const source = `import { readFileSync } from 'node:fs';
import { type Classification, classify, detect, TfliteFnError } from 'tflite-fn';
import { createApp } from 'tflite-fn/http';
import { createLambdaHandler } from 'tflite-fn/aws-lambda';
import { GET } from 'tflite-fn/vercel';
import netlify from 'tflite-fn/netlify';

const result: Classification = await classify(readFileSync('photo.jpg'), { top: 3 });
const label: string = result.label;
const handlers = [createApp, createLambdaHandler, GET, netlify, detect];
export { handlers, label, TfliteFnError };
`;
    writeFileSync(join(project, 'check.ts'), source);
    writeFileSync(
      join(project, 'tsconfig.json'),
      `${JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['check.ts'] })}\n`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, env });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    // The check can fail: a score is a number, not a string.
    writeFileSync(join(project, 'check.ts'), `${source}export const wrong: string = result.score;\n`);
    const refused = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, env });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout, /check\.ts.*TS2322/);
  });
});
