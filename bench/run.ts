/**
 * `npm run bench`: the figures issue #2 names, measured on this machine in one run.
 *
 *   warm latency per model and photo (decode+resize, inference, end to end; p50/p95)
 *   cold start of `tflite-fn < grace_hopper.jpg` as a new process (spawn to first byte out)
 *   throughput with 2 concurrent callers, peak RSS
 *   accuracy on imagenet-sample (1000 photos) for imagenet and imagenet-small, cover and fill
 *   RSS growth over 10,000 consecutive classify() calls (a tensor leak shows here)
 *
 *   handler overhead over the core (Lambda, Vercel, Netlify), Lambda cold start from the
 *   built layer, layer and function zip sizes
 *
 *   stream workers on a real nats-server (frames/s with 1 and 2 workers, broker latency)
 *   both engines side by side (litert, ort on one and on the default threads), cold start on each
 *
 * Flags: --quick (fewer iterations, no accuracy or leak run), --skip-accuracy, --skip-leak,
 * --skip-serverless (no layer builds).
 * Writes bench/results/<date>.json and bench/results/latest.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { ResizeMode } from '../src/image/to-tensor.js';
import { classify, ModelCatalog } from '../src/index.js';
import { packageRoot, sharedDataDir } from '../src/store/paths.js';
import { cpuFacts } from '../src/util/cpu.js';
import { createProgress } from '../src/util/progress.js';
import { runInBuild, thisBuild } from './baseline.js';
import { compareEngines } from './engines.js';
import { atLeast, atMost, below, type Figure, figureRows, judged, reported } from './figures.js';
import { listImagenetSample, measureAccuracy } from './imagenet-sample.js';
import { currentMachine } from './machine.js';
import { type PackageSize, packageSize, tarballFigure } from './package-size.js';
import { publishing } from './publication-dir.js';
import { publishMain } from './publish-main.js';
import { sandbox } from './sandbox.js';
import { serverLoad } from './server-load.js';
import { functionZip, handlerOverhead, lambdaColdStart } from './serverless.js';
import { median, percentile, round, table } from './stats.js';
import { streamBench } from './stream.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const images = join(sharedDataDir(), 'images');
const photos = ['grace_hopper.jpg', 'kite_and_cold.jpg'];
const models = ['imagenet', 'imagenet-small', 'birds', 'insects'];
const catalog = new ModelCatalog();

function read(name: string): Buffer {
  return readFileSync(join(images, name));
}

async function warmLatency() {
  const iterations = quick ? 15 : 60;
  const rows = [];
  const progress = createProgress('warm latency', models.length * photos.length * iterations);
  let done = 0;
  for (const model of models) {
    await catalog.load(model);
    for (const name of photos) {
      const bytes = read(name);
      for (let i = 0; i < 5; i++) await classify(bytes, { model, catalog }); // settle caches
      const decode: number[] = [];
      const inference: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const started = performance.now();
        const result = await classify(bytes, { model, catalog });
        total.push(performance.now() - started);
        decode.push(result.timings.decodeMs);
        inference.push(result.timings.inferenceMs);
        progress.update(++done);
      }
      rows.push({
        model,
        photo: `${name} (${Math.round(bytes.length / 1024)} kB)`,
        'decode p50': round(median(decode)),
        'infer p50': round(median(inference)),
        'infer p95': round(percentile(inference, 95)),
        'total p50': round(median(total)),
        'total p95': round(percentile(total, 95)),
      });
    }
  }
  progress.finish();
  return rows;
}

/** Spawn to first byte on stdout, for `tflite-fn < grace_hopper.jpg` in a new process. */
async function coldStartOnce(
  engine: string,
): Promise<{ firstOutputMs: number; exitMs: number; output: string }> {
  const cli = join('dist', 'handlers', 'cli', 'main.js');
  const run = await runInBuild(thisBuild(), [cli, '--engine', engine], read('grace_hopper.jpg'));
  return { firstOutputMs: run.firstOutputMs, exitMs: run.exitMs, output: run.stdout };
}

/** `auto` takes ort for the pre-converted default model; litert is the reference. */
async function coldStart(engine: 'auto' | 'litert') {
  const runs = quick ? 3 : 9;
  const first: number[] = [];
  const exit: number[] = [];
  const progress = createProgress(`cold start (${engine})`, runs);
  let output = '';
  for (let i = 0; i < runs; i++) {
    const run = await coldStartOnce(engine);
    first.push(run.firstOutputMs);
    exit.push(run.exitMs);
    output = run.output.trim();
    progress.update(i + 1);
  }
  progress.finish();
  return {
    runs,
    firstOutputMedianMs: round(median(first)),
    firstOutputMinMs: round(Math.min(...first)),
    exitMedianMs: round(median(exit)),
    output,
  };
}

/** Warm face detection per model and photo, with the tiling each photo gets. */
async function detection() {
  const { detect } = await import('../src/detect.js');
  const iterations = quick ? 5 : 20;
  const rows = [];
  for (const model of ['faces', 'faces-short']) {
    for (const name of ['face.jpg', 'solvay.jpg', 'grace_hopper.jpg']) {
      const bytes = read(name);
      for (let i = 0; i < 3; i++) await detect(bytes, { model, catalog });
      const totals: number[] = [];
      let last = await detect(bytes, { model, catalog });
      for (let i = 0; i < iterations; i++) {
        const started = performance.now();
        last = await detect(bytes, { model, catalog });
        totals.push(performance.now() - started);
      }
      rows.push({
        model,
        photo: name,
        faces: last.faces.length,
        passes: last.tiling.passes,
        tile: last.tiling.tile || '-',
        'total p50': round(median(totals)),
        'total p95': round(percentile(totals, 95)),
      });
    }
  }
  return rows;
}

async function throughput() {
  const bytes = read('grace_hopper.jpg');
  const calls = quick ? 60 : 300;
  const callers = 2;
  const progress = createProgress('throughput (2 callers)', calls);
  let next = 0;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < calls) {
        next++;
        await classify(bytes, { catalog });
        progress.update(++done);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  progress.finish();
  return { callers, calls, perSecond: round(calls / seconds) };
}

async function accuracy() {
  const photosList = listImagenetSample();
  const rows = [];
  const runs: [string, ResizeMode][] = [
    ['imagenet', 'cover'],
    ['imagenet', 'fill'],
    ['imagenet-small', 'cover'],
    ['imagenet-small', 'fill'],
  ];
  for (const [model, resize] of runs) {
    const progress = createProgress(`accuracy ${model} ${resize}`, photosList.length);
    const result = await measureAccuracy(photosList, {
      model,
      resize,
      catalog,
      onProgress: (n) => progress.update(n),
    });
    progress.finish();
    rows.push({
      model,
      resize,
      photos: result.count,
      'top-1': round(result.top1, 3),
      'top-5': round(result.top5, 3),
    });
  }
  return rows;
}

async function leak() {
  const calls = 10_000;
  const bytes = read('grace_hopper.jpg');
  const model = 'imagenet-small';
  // Settle allocator pools and JIT first, so growth measures what accumulates per call.
  for (let i = 0; i < 300; i++) await classify(bytes, { model, catalog });
  global.gc?.();
  const before = process.memoryUsage().rss;
  const progress = createProgress(`leak check (${calls} calls, ${model})`, calls);
  for (let i = 0; i < calls; i++) {
    await classify(bytes, { model, catalog });
    if (i % 50 === 0) progress.update(i);
  }
  progress.finish();
  global.gc?.();
  const after = process.memoryUsage().rss;
  return {
    model,
    calls,
    rssBeforeMb: round(before / 2 ** 20),
    rssAfterMb: round(after / 2 ** 20),
    growthMb: round((after - before) / 2 ** 20),
  };
}

/** The machine, as every published result records it, plus what only this run's JSON keeps. */
function machine() {
  return {
    ...currentMachine(),
    int8DotProduct: cpuFacts().int8DotProduct,
    memoryGb: round(totalmem() / 2 ** 30),
  };
}

const results: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), quick };
console.log(`machine: ${JSON.stringify(results.machine)}`);
// First, while nothing else is loaded in this process.
const cold = await coldStart('auto');
results.coldStart = cold;
results.coldStartLitert = await coldStart('litert');
results.engines = await compareEngines(read('grace_hopper.jpg'), quick ? 30 : 150);
results.warm = await warmLatency();
results.throughput = await throughput();
results.detection = await detection();
results.sandbox = await sandbox(read('grace_hopper.jpg'), catalog, quick ? 10 : 40);
if (!quick && !args.has('--skip-accuracy')) results.accuracy = await accuracy();
if (!quick && !args.has('--skip-leak')) results.leak = await leak();
results.server = await serverLoad(read('grace_hopper.jpg'), quick ? 5 : 15);
results.stream = await streamBench(quick ? 150 : 500);
results.handlerOverhead = await handlerOverhead(read('grace_hopper.jpg'), quick ? 30 : 150);
if (!args.has('--skip-serverless')) {
  const lambda = await lambdaColdStart(quick ? 3 : 9);
  results.lambdaColdStart = lambda.coldStart;
  results.layers = lambda.layers;
  results.functionZip = functionZip();
}
results.npmPackage = packageSize();
results.peakRssMb = round(process.resourceUsage().maxRSS / 1024);

const warm = results.warm as { model: string; photo: string; 'total p50': number; 'infer p50': number }[];
const graceImagenet = warm.find((row) => row.model === 'imagenet' && row.photo.startsWith('grace'));
const accuracyRows = (results.accuracy ?? []) as {
  model: string;
  resize: string;
  'top-1': number;
  'top-5': number;
}[];
const cover = accuracyRows.find((row) => row.model === 'imagenet' && row.resize === 'cover');
const leakResult = results.leak as { growthMb: number } | undefined;
const targets: Figure[] = [
  judged('imagenet warm classify() p50, grace_hopper', graceImagenet?.['total p50'], 'ms', atMost(22)),
  judged('imagenet inference alone p50', graceImagenet?.['infer p50'], 'ms', atMost(17)),
  judged('cold start to first result (median)', cold.firstOutputMedianMs, 'ms', atMost(600)),
  judged('accuracy imagenet cover top-1', cover?.['top-1'], '', atLeast(0.87)),
  judged('accuracy imagenet cover top-5', cover?.['top-5'], '', atLeast(0.97)),
  judged('RSS growth over 10,000 calls', leakResult?.growthMb, 'MB', below(20)),
];
const engineRows = results.engines as {
  engine: string;
  'run alone p50': number;
  'infer p50': number;
  'classify p50': number;
}[];
const ortOne = engineRows.find((row) => row.engine === 'ort (1 thread)');
const ortDefault = engineRows.find((row) => row.engine.startsWith('ort (') && row !== ortOne);
targets.push(
  judged(
    'ort: imagenet inference p50, one thread (engine.run back to back)',
    ortOne?.['run alone p50'],
    'ms',
    atMost(6),
  ),
  reported('ort: imagenet inference p50, one thread, inside classify()', ortOne?.['infer p50'], 'ms'),
  judged(
    'ort: classify() of grace_hopper.jpg p50 (default threads)',
    ortDefault?.['classify p50'],
    'ms',
    atMost(11),
  ),
  judged(
    'ort: cold start to first result, pre-converted model (median)',
    cold.firstOutputMedianMs,
    'ms',
    atMost(400),
  ),
);
const overheadRows = (results.handlerOverhead ?? []) as { way: string; 'overhead p50 ms': number | string }[];
const worstOverhead = Math.max(
  ...overheadRows.filter((r) => r.way !== 'core').map((r) => Number(r['overhead p50 ms'])),
);
targets.push(
  judged('handler overhead over the core, p50 (worst platform)', round(worstOverhead, 2), 'ms', atMost(2)),
);
const lambdaCold = results.lambdaColdStart as { medianMs: number } | undefined;
if (lambdaCold) {
  targets.push(
    judged(
      'Lambda cold start from the layer, init + first invoke (median)',
      lambdaCold.medianMs,
      'ms',
      atMost(700),
    ),
  );
  const layerRows = results.layers as { arch: string; zipMb: number }[];
  for (const layer of layerRows) {
    targets.push(judged(`layer zip, ${layer.arch}`, layer.zipMb, 'MB', atMost(60), 'with onnxruntime'));
  }
  const fnZip = results.functionZip as { bytes: number };
  targets.push(judged('function zip', round(fnZip.bytes / 1024, 1), 'kB', atMost(1024)));
}
const npmPackage = results.npmPackage as PackageSize;
targets.push(tarballFigure(npmPackage));
const detectionRows = results.detection as {
  model: string;
  photo: string;
  faces: number;
  'total p50': number;
}[];
const solvay = detectionRows.find((r) => r.model === 'faces' && r.photo === 'solvay.jpg');
const faceJpg = detectionRows.find((r) => r.model === 'faces' && r.photo === 'face.jpg');
targets.push(
  judged('solvay.jpg faces found (of 29), faces model', solvay?.faces, '', atLeast(27)),
  judged('solvay.jpg detection, warm, end to end', solvay?.['total p50'], 'ms', atMost(300)),
  judged('face.jpg detection, warm, end to end', faceJpg?.['total p50'], 'ms', atMost(60)),
);
const serverResult = results.server as { perSecond: number; p99Ms: number; readyMs: number };
targets.push(
  judged('server: classifications/s, 8 connections, imagenet', serverResult.perSecond, '/s', atLeast(90)),
  judged('server: p99 latency at 8 connections', serverResult.p99Ms, 'ms', atMost(150)),
  judged('server: ready (models loaded and warmed) after start', serverResult.readyMs, 'ms', atMost(1500)),
);
const streamResult = results.stream as {
  oneWorkerLitertFps?: number;
  scaling?: number;
  brokerAddedP50Ms?: number;
};
if (streamResult.scaling !== undefined) {
  targets.push(
    judged(
      'stream: one worker, litert, 640x480 JPEGs (frames/s)',
      streamResult.oneWorkerLitertFps,
      '/s',
      atLeast(40),
    ),
    judged('stream: two workers / one worker', streamResult.scaling, 'x', atLeast(1.7)),
    judged('stream: latency the broker path adds, p50', streamResult.brokerAddedP50Ms, 'ms', atMost(5)),
  );
}
results.targets = targets;

console.log(
  '\nEngines side by side: imagenet, grace_hopper.jpg, rotating blocks of 20 runs in one process (ms)',
);
console.log(table(engineRows as unknown as Record<string, string | number>[]));
const coldLitert = results.coldStartLitert as { firstOutputMedianMs: number };
console.log(
  `Cold start, tflite-fn < grace_hopper.jpg: ort (pre-converted) ${cold.firstOutputMedianMs} ms, litert ${coldLitert.firstOutputMedianMs} ms (medians)`,
);
console.log('\nWarm latency (ms, in process, models loaded)');
console.log(table(warm as unknown as Record<string, string | number>[]));
console.log(
  `\nCold start, new process, spawn to first byte out: median ${cold.firstOutputMedianMs} ms, best ${cold.firstOutputMinMs} ms (to exit: ${cold.exitMedianMs} ms; ${cold.runs} runs)`,
);
const tp = results.throughput as { perSecond: number; callers: number; calls: number };
console.log(
  `Throughput, ${tp.callers} concurrent callers, grace_hopper.jpg, imagenet: ${tp.perSecond} classifications/s`,
);
if (accuracyRows.length > 0) {
  console.log('\nAccuracy on imagenet-sample');
  console.log(table(accuracyRows));
}
if (results.leak) console.log(`\nLeak check: ${JSON.stringify(results.leak)}`);
console.log(`Peak RSS: ${results.peakRssMb} MB`);
console.log('\nHandler overhead over the core (grace_hopper.jpg, in process)');
console.log(table(results.handlerOverhead as Record<string, string | number>[]));
if (lambdaCold)
  console.log(
    `Lambda cold start from the layer: ${JSON.stringify(results.lambdaColdStart)}; layers ${JSON.stringify(results.layers)}; function zip ${JSON.stringify(results.functionZip)}`,
  );
console.log(
  `npm package (npm pack): ${npmPackage.bytes} bytes packed, ${npmPackage.unpackedBytes} unpacked, ${npmPackage.files} files`,
);
console.log('\nFace detection, warm (ms)');
console.log(table(detectionRows as unknown as Record<string, string | number>[]));
console.log(
  `\nSandbox (guests vs built-in, same model; npm run bench:sandbox publishes them): ${JSON.stringify(results.sandbox)}`,
);
console.log(`\nSelf-hosted server: ${JSON.stringify(results.server)}`);
console.log(`Stream processing on NATS JetStream: ${JSON.stringify(results.stream)}`);
console.log('\nTargets (issues #2 to #8)');
console.log(table(figureRows(targets)));

const dir = join(packageRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const json = `${JSON.stringify(results, null, 2)}\n`;
writeFileSync(join(dir, `${(results.date as string).replace(/[:.]/g, '-')}.json`), json);
writeFileSync(join(dir, 'latest.json'), json);
console.log(`\nwrote ${join(dir, 'latest.json')}`);
if (publishing()) console.log(`wrote ${publishMain(results)}`);
await catalog.dispose();
