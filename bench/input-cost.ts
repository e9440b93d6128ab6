/**
 * What hostile inputs of at most 1 MB cost (issue #12's target: none over 2 s of CPU).
 *
 * Each input is crafted here (bench/hostile-inputs.ts), written to a temporary folder, and
 * decoded in a fresh child process the way classify() does (openImage, then a 224x224 cover
 * resize); the child reports the CPU time of that decode alone, all threads, user + system,
 * from process.cpuUsage(). The .tflite case runs `tflite-fn convert` in a child shell and
 * reads the shell's children's times. Prints the CPU facts, as every bench result here does.
 *
 *   node dist/bench/input-cost.js [--quick]    (npm run bench:inputs)
 *
 * --quick crafts smaller inputs (faster to make; the figures then understate the worst case).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb } from '../src/image/to-tensor.js';
import { JPEG_SCAN_PIXEL_BUDGET } from '../src/image/work-limits.js';
import { packageRoot } from '../src/store/paths.js';
import { cpuFacts } from '../src/util/cpu.js';
import { atMost, type Figure, figureRows, judged, reported } from './figures.js';
import {
  countScans,
  flatAvif,
  flatPng,
  flatTiff,
  flatWebp,
  headerOnlyJpeg,
  manyChunkPng,
  manyFrameGif,
  manyPageTiff,
  manyScanJpeg,
  oneBitBmp,
  pngBomb,
  tfliteWithHugeDequantizeOutput,
} from './hostile-inputs.js';
import { publish, publishing } from './publish.js';
import { table } from './stats.js';

const TARGET_CPU_MS = 2000;
const MIB = 1024 * 1024;
const CLI = resolve(packageRoot(), 'dist', 'handlers', 'cli', 'main.js');
const SELF = fileURLToPath(import.meta.url);

interface Input {
  readonly name: string;
  readonly bytes: Buffer;
  /** Outside the ≤ 1 MB scope of the target: shown for reference, not judged. */
  readonly reference?: boolean;
}

interface Cost {
  readonly outcome: string;
  readonly cpuMs: number;
  readonly peakRssMb?: number | undefined;
}

/**
 * The child's peak resident memory. Not resourceUsage().maxRSS: Linux keeps that across exec,
 * so a child forked from this parent starts at the parent's size. VmHWM is per address space.
 */
function peakRssMb(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined; // not Linux
  }
}

/** In the child: decode one file as classify() does and report the cost as JSON on stdout. */
async function decodeInChild(file: string): Promise<void> {
  const bytes = readFileSync(file);
  const started = process.cpuUsage();
  let outcome = 'decoded';
  try {
    await resizeToRgb(await openImage(bytes), 224, 224, 'cover');
  } catch (error) {
    const e = error as { status?: number; code?: string; message?: string };
    outcome = `${e.status ?? '?'} ${e.code ?? e.message ?? String(error)}`;
  }
  const cpu = process.cpuUsage(started);
  const cost: Cost = {
    outcome,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: peakRssMb(),
  };
  process.stdout.write(JSON.stringify(cost));
}

function decodeCost(file: string): Cost {
  const run = spawnSync(process.execPath, [SELF, '--child', file], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) return { outcome: `child failed: ${run.signal ?? run.status}`, cpuMs: Number.NaN };
  return JSON.parse(run.stdout) as Cost;
}

/** `tflite-fn convert` on a file, in a shell whose `times` gives its children's CPU. */
function convertCost(file: string, dir: string): Cost {
  const script = `node "$1" convert "$2" --out "$3" >/dev/null 2>"$4"; echo "exit $?"; times`;
  const errors = join(dir, 'convert-stderr.txt');
  const run = spawnSync('bash', ['-c', script, 'bash', CLI, file, join(dir, 'out.onnx'), errors], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const lines = run.stdout.trim().split('\n');
  const exit = lines[0] ?? 'exit ?';
  // `times` prints the shell's own user/sys, then its children's: "0m1.234s 0m0.056s".
  const seconds = (text: string) => {
    const match = /(\d+)m([\d.]+)s/.exec(text);
    return match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
  };
  const children = (lines[2] ?? '').split(/\s+/);
  const cpuMs = (seconds(children[0] ?? '') + seconds(children[1] ?? '')) * 1000;
  let stderr = '';
  try {
    stderr = readFileSync(errors, 'utf8').trim().split('\n')[0] ?? '';
  } catch {}
  // The reason, without the temporary file's path.
  const reason = stderr.replace(/\S*input-\d+\.tflite/g, 'the file');
  const outcome = run.signal ? `killed (${run.signal})` : `${exit}${reason ? `: ${reason}` : ''}`;
  return { outcome, cpuMs };
}

async function craft(quick: boolean): Promise<Input[]> {
  const side = quick ? 4000 : 8000;
  const pixels = side * side;
  // Just under the budget: the most scans a JPEG of this size may have and still be decoded.
  const underBudget = await manyScanJpeg(
    side,
    Math.max(0, Math.floor((JPEG_SCAN_PIXEL_BUDGET / pixels - 10) / 8)),
  );
  const manyScans = await manyScanJpeg(side, 110);
  return [
    { name: `progressive JPEG ${side}x${side}, ${countScans(manyScans)} scans`, bytes: manyScans },
    {
      name: `progressive JPEG ${side}x${side}, ${countScans(underBudget)} scans (budget)`,
      bytes: underBudget,
    },
    { name: 'JPEG header 8000x8000, no data', bytes: await headerOnlyJpeg(8000) },
    { name: '1-bit BMP 2880x2880 (largest <= 1 MB)', bytes: oneBitBmp(2880, 2880) },
    { name: '1-bit BMP 8000x8000 (8 MB)', bytes: oneBitBmp(8000, 8000), reference: true },
    { name: `PNG bomb ${side}x${side} RGBA16`, bytes: await pngBomb(side, side) },
    { name: `PNG bomb ${side}x${side} RGBA16 interlaced`, bytes: await pngBomb(side, side, true) },
    { name: `WebP lossless ${side}x${side}`, bytes: await flatWebp(side, side) },
    { name: `TIFF deflate ${side}x${side}`, bytes: await flatTiff(side, side) },
    { name: `AVIF ${side / 2}x${side / 2}`, bytes: await flatAvif(side / 2, side / 2) },
    { name: `GIF ${side}x${side} screen, 1 frame`, bytes: manyFrameGif(1, side) },
    { name: 'PNG 60000 tEXt chunks', bytes: await manyChunkPng(60_000) },
    { name: 'PNG 1x1000000', bytes: await flatPng(1, 1_000_000) },
    { name: 'TIFF 10000 pages', bytes: manyPageTiff(10_000) },
    { name: 'GIF 44000 frames', bytes: manyFrameGif(44_000) },
  ];
}

function judge(cost: Cost, reference: boolean): string {
  if (reference) return '(reference)';
  return cost.cpuMs <= TARGET_CPU_MS ? 'pass' : 'FAIL';
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const cpu = cpuFacts();
  console.log(
    `CPU: ${cpu.model}, ${cpu.cores} cores, ${cpu.arch}; flags: ${cpu.flags.join(' ') || '(none)'}`,
  );
  console.log(
    `target: each input <= 1 MB costs <= ${TARGET_CPU_MS / 1000} s of CPU${quick ? ' (--quick: smaller inputs)' : ''}\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-input-cost-'));
  const rows: Record<string, string | number>[] = [];
  const judgedCosts: { name: string; cost: Cost }[] = [];
  try {
    const inputs = await craft(quick);
    const faces = readFileSync(
      resolve(packageRoot(), 'node_modules/@mediapipe/face_detection/face_detection_short_range.tflite'),
    );
    const model = {
      name: '.tflite, DEQUANTIZE output 2^30 x ...',
      bytes: tfliteWithHugeDequantizeOutput(faces, 2 ** 30),
    };
    for (const [i, input] of [...inputs, model].entries()) {
      const file = join(dir, `input-${i}${input === model ? '.tflite' : ''}`);
      writeFileSync(file, input.bytes);
      const cost = input === model ? convertCost(file, dir) : decodeCost(file);
      const reference = 'reference' in input && input.reference === true;
      if (!reference && input.bytes.length > MIB)
        throw new Error(`${input.name} is over 1 MB: ${input.bytes.length}`);
      if (!reference) judgedCosts.push({ name: input.name, cost });
      rows.push({
        input: input.name,
        KB: Math.round(input.bytes.length / 1024),
        outcome: cost.outcome.length > 70 ? `${cost.outcome.slice(0, 69)}…` : cost.outcome,
        'cpu s': Number.isNaN(cost.cpuMs) ? '?' : (cost.cpuMs / 1000).toFixed(2),
        'peak MB': cost.peakRssMb ?? '',
        [`target ${TARGET_CPU_MS / 1000} s`]: judge(cost, reference),
      });
      console.log(`${input.name}: ${cost.outcome}, ${(cost.cpuMs / 1000).toFixed(2)} s CPU`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = headlineFigures(judgedCosts);
  console.log(`\n${table(rows)}\n\n${table(figureRows(figures))}`);
  if (publishing()) {
    const file = publish({
      name: 'input-cost',
      title: 'Hostile inputs of at most 1 MB: CPU and memory to decode (or convert) one',
      figures,
      sections: [{ heading: 'Each input', rows }],
    });
    console.log(`\nwrote ${file}`);
  }
}

/** The costliest judged input against the target; the most memory one took, for reference. */
function headlineFigures(costs: readonly { name: string; cost: Cost }[]): Figure[] {
  // NaN (a child that failed) counts as the worst, so a failed measurement is never hidden.
  const key = (cpuMs: number) => (Number.isNaN(cpuMs) ? Number.POSITIVE_INFINITY : cpuMs);
  const byCpu = [...costs].sort((a, b) => key(b.cost.cpuMs) - key(a.cost.cpuMs));
  const worst = byCpu[0];
  const peak = Math.max(...costs.map(({ cost }) => cost.peakRssMb ?? 0));
  return [
    judged(
      `most CPU for one of ${costs.length} inputs <= 1 MB${worst ? ` (${worst.name})` : ''}`,
      worst ? Math.round(worst.cost.cpuMs) / 1000 : undefined,
      's',
      atMost(TARGET_CPU_MS / 1000),
    ),
    reported('most memory for one decode (peak RSS of its process)', peak > 0 ? peak : undefined, 'MB'),
  ];
}

if (process.argv[2] === '--child') await decodeInChild(process.argv[3] as string);
else await main();
