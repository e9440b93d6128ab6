/**
 * Serverless figures (issue #3): handler overhead over the core, Lambda cold start with the
 * core loaded from the built layer (init and first invocation apart, as Lambda reports them),
 * layer and function zip sizes.
 *
 *   node dist/bench/serverless.js [--quick]     the Lambda cold start alone (builds both layers)
 */

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createLambdaHandler } from '../handlers/aws-lambda/lambda.js';
import { eventTemplate } from '../handlers/dev/event-templates.js';
import { buildLambdaEvent, lambdaResultToHttp } from '../handlers/dev/lambda-events.js';
import netlifyHandler from '../handlers/netlify/index.js';
import { POST as vercelPost } from '../handlers/vercel/index.js';
import {
  buildLayer,
  functionTaskDir,
  type LambdaArch,
  type LayerBuild,
  unzipLayer,
} from '../layers/build.js';
import { FUNCTION_FILES } from '../layers/function-package.js';
import { RIC_VARIABLE, realRuntimeClient } from '../layers/lambda-run.js';
import { classify } from '../src/classify.js';
import { packageRoot, sampleCacheDir, sharedDataDir } from '../src/store/paths.js';
import { createProgress } from '../src/util/progress.js';
import { machineLine } from './publish.js';
import { median, round } from './stats.js';

const root = packageRoot();

/** p50 time of each way in, measured round-robin so drift hits all of them alike. */
export async function handlerOverhead(photo: Buffer, iterations: number) {
  const lambda = createLambdaHandler();
  const event = JSON.parse(
    JSON.stringify(
      buildLambdaEvent(
        'api-gateway-v2',
        {
          method: 'POST',
          path: '/classify',
          query: '',
          headers: { 'content-type': 'image/jpeg' },
          body: photo,
        },
        eventTemplate('api-gateway-v2', 'bench.local'),
      ),
    ),
  ) as Parameters<typeof lambda>[0];
  const request = () =>
    new Request('https://bench.local/api/classify', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: photo,
    });
  const ways: Record<string, () => Promise<unknown>> = {
    core: () => classify(photo),
    'AWS Lambda (HTTP API event)': async () =>
      lambdaResultToHttp((await lambda(structuredClone(event))) as never),
    Vercel: async () => (await vercelPost(request())).arrayBuffer(),
    Netlify: async () => (await netlifyHandler(request(), {})).arrayBuffer(),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (const run of Object.values(ways)) for (let i = 0; i < 5; i++) await run(); // warm every path
  const progress = createProgress('handler overhead', iterations);
  for (let i = 0; i < iterations; i++) {
    for (const [name, run] of Object.entries(ways)) {
      const started = performance.now();
      await run();
      times[name]?.push(performance.now() - started);
    }
    progress.update(i + 1);
  }
  progress.finish();
  const core = median(times.core ?? []);
  return Object.entries(times).map(([way, values]) => ({
    way,
    'p50 ms': round(median(values), 2),
    'overhead p50 ms': way === 'core' ? '-' : round(median(values) - core, 2),
  }));
}

/** What smoke.js reports: Lambda's Init Duration and the first invocation's Duration. */
interface ColdStartReport {
  readonly runtime: string;
  readonly initMs: number;
  readonly firstInvokeMs: number;
}

function runOnce(
  optModules: string,
  taskDir: string,
  photo: string,
): Promise<{ wallMs: number; report: ColdStartReport }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ric = realRuntimeClient();
    const child = spawn(process.execPath, [join(root, 'dist', 'layers', 'smoke.js'), taskDir, photo], {
      cwd: taskDir,
      // As deployed by serverless.yml: one inference thread per 1769 MB vCPU; no HOME.
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: optModules,
        TFLITE_FN_THREADS: '1',
        ...(ric ? { [RIC_VARIABLE]: ric } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`smoke run failed: ${output}`));
      else
        resolve({
          wallMs: performance.now() - started,
          report: JSON.parse(output.trim().split('\n').pop() as string) as ColdStartReport,
        });
    });
  });
}

export async function lambdaColdStart(runs: number) {
  const host: LambdaArch = arch() === 'arm64' ? 'arm64' : 'x86_64';
  const progress = createProgress('layers + Lambda cold start', 2 + runs);
  const layers: LayerBuild[] = [];
  for (const layerArch of ['x86_64', 'arm64'] as LambdaArch[]) {
    layers.push(await buildLayer(layerArch));
    progress.update(layers.length);
  }
  const hostLayer = layers.find((layer) => layer.arch === host);
  if (!hostLayer) throw new Error('no layer for this machine');
  const opt = unzipLayer(hostLayer.zip, host);
  const task = functionTaskDir(host);
  // Flush the freshly unzipped files to disk first: otherwise the kernel writes them back
  // during the runs and the timing measures our disk, not a cold start.
  execFileSync('sync');
  const photo = join(sampleCacheDir(), 'grace_hopper.jpg');
  const wall: number[] = [];
  const init: number[] = [];
  const firstInvoke: number[] = [];
  let runtime = '';
  for (let i = 0; i < runs; i++) {
    const run = await runOnce(opt, task, photo);
    wall.push(run.wallMs);
    init.push(run.report.initMs);
    firstInvoke.push(run.report.firstInvokeMs);
    runtime = run.report.runtime;
    progress.update(3 + i);
  }
  progress.finish();
  return {
    coldStart: {
      runs,
      runtime,
      // Lambda's Init Duration: runtime start to its first poll for an event (model loaded).
      initMedianMs: round(median(init)),
      // Lambda's Duration for the first request: decode, inference, response.
      firstInvokeMedianMs: round(median(firstInvoke)),
      // Both, plus starting the smoke process and its Runtime API: spawn to exit.
      medianMs: round(median(wall)),
      bestMs: round(Math.min(...wall)),
      threads: 1,
    },
    layers: layers.map((layer) => ({ arch: layer.arch, zipMb: round(layer.zipBytes / 2 ** 20, 1) })),
  };
}

/** The function zip as `serverless package` makes it; without the CLI, the same one file zipped. */
export function functionZip(): { bytes: number; how: string } {
  const serverless = join(root, 'platforms', 'node_modules', '.bin', 'serverless');
  const out = mkdtempSync(join(tmpdir(), 'bench-sls-'));
  if (existsSync(serverless)) {
    execFileSync(serverless, ['package', '--package', out], {
      cwd: root,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      stdio: 'ignore',
    });
    return { bytes: statSync(join(out, 'classify.zip')).size, how: 'serverless package' };
  }
  const zip = join(out, 'classify.zip');
  execFileSync('zip', ['-q', '-X', zip, ...FUNCTION_FILES], { cwd: root });
  return { bytes: statSync(zip).size, how: 'zip of the handler files (serverless CLI not installed)' };
}

export function readPhoto(name: string): Buffer {
  return readFileSync(join(sharedDataDir(), 'images', name));
}

if (process.argv[1] && basename(process.argv[1]) === 'serverless.js') {
  const coldStart = await lambdaColdStart(process.argv.includes('--quick') ? 3 : 9);
  console.log(JSON.stringify({ machine: machineLine(), ...coldStart }, null, 2));
}
