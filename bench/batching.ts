/**
 * Dynamic batching on the self-hosted server (issue 15): the real server over loopback, /classify
 * with one model (the default, or --model) at 1, 8 and 32 connections, batching off and on,
 * throughput and p50/p99 from autocannon, and where the workers' CPU goes per request (their
 * main thread, which runs the inference, against the threads that decode). Requests cycle
 * through different sample photos, as real clients' would. First, every batchable catalog model
 * on the engine alone: ms per item alone and in batches, what a batch can save at most.
 *
 *   node dist/bench/batching.js [--quick] [--model ID] [--batch-max N] [--batch-delay-ms MS] [--seconds S]
 *
 * A full run writes docs/benchmarks/batching.md from its own rows, with the machine's CPU;
 * --quick runs briefly to show the bench works and publishes nothing (figures taken on a loaded
 * machine mean nothing). The target: at 32 connections, batching gives >= 1.3x the
 * classifications/s of no batching, with p99 <= 250 ms.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { serverConfig } from '../handlers/server/config.js';
import { startServer } from '../handlers/server/server.js';
import { THREADS } from '../src/config/index.js';
import type { TensorData } from '../src/engine/types.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { zerosFor } from '../src/model/load.js';
import { sampleCacheDir } from '../src/store/paths.js';
import { cpuFacts } from '../src/util/cpu.js';
import { allMet, atLeast, atMost, exactly, type Figure, figureRows, judged } from './figures.js';
import { publish, publishing, type Row } from './publish.js';
import { round, table } from './stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'batch-max': { type: 'string' },
    'batch-delay-ms': { type: 'string' },
    seconds: { type: 'string' },
    model: { type: 'string' },
    'publish-dir': { type: 'string' },
  },
});
const QUICK = args.quick === true;
const SECONDS = Number(args.seconds ?? (QUICK ? 2 : 20));
const CONNECTIONS = [1, 8, 32] as const;
const BATCH_MAX = args['batch-max'] ?? '8';
const BATCH_DELAY_MS = args['batch-delay-ms'] ?? '5';
const TARGET = { speedup: 1.3, p99Ms: 250 } as const;
/** The model the server runs; undefined: the catalog's default. */
const MODEL = args.model;

interface Measured {
  readonly batching: string;
  readonly connections: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  /** Requests served in batches of more than one, of all served. */
  readonly batchedShare: number;
  /**
   * The workers' CPU time per request served (user + system, from /proc): unlike throughput,
   * it hardly moves when other processes load the machine, so it shows what batching saves.
   */
  readonly workerCpuMs: number | string;
  /**
   * Of that, the workers' main threads: the inference (onnxruntime runs on the calling thread
   * with one intra-op thread) and the JavaScript around it. The rest is decoding and resizing
   * (libvips and libuv threads) and the runtime's helpers (GC).
   */
  readonly workerMainThreadMs: number | string;
}

/**
 * CPU time a process (or only its main thread) has used, in ms (Linux /proc; undefined
 * elsewhere or once it is gone).
 */
function cpuMsOf(pid: number, mainThreadOnly: boolean): number | undefined {
  try {
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    return (Number(fields[14 - 3]) + Number(fields[15 - 3])) * 10;
  } catch {
    return undefined;
  }
}

function workersCpuMs(pids: readonly number[], mainThreadOnly = false): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of pids) {
    const ms = cpuMsOf(pid, mainThreadOnly);
    if (ms !== undefined) used.set(pid, ms);
  }
  return used;
}

/** CPU the same workers used between two readings; undefined if one was replaced meanwhile. */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number | undefined {
  if (before.size === 0 || [...before.keys()].some((pid) => !after.has(pid))) return undefined;
  let total = 0;
  for (const [pid, ms] of before) total += (after.get(pid) as number) - ms;
  return total;
}

/** The sample photos set-up fetched (ImageNet validation JPEGs): different requests. */
function photos(): Buffer[] {
  const dir = sampleCacheDir();
  const names = readdirSync(dir).filter((name) => /\.jpe?g$/i.test(name));
  if (names.length === 0) throw new Error(`no sample photos in ${dir}: run tflite-fn setup`);
  return names.slice(0, 16).map((name) => readFileSync(join(dir, name)));
}

async function load(url: string, bodies: readonly Buffer[], connections: number, seconds: number) {
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: bodies.map((body) => ({
      method: 'POST' as const,
      path: MODEL ? `/classify?model=${encodeURIComponent(MODEL)}` : '/classify',
      headers: { 'content-type': 'image/jpeg' },
      body,
    })),
  });
}

async function idle(pool: { inFlight: number; queueDepth: number }): Promise<void> {
  for (let waited = 0; (pool.inFlight > 0 || pool.queueDepth > 0) && waited < 30_000; waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/** One server (batching on or off) through every connection count. */
async function measure(batching: 'off' | 'on', bodies: readonly Buffer[]): Promise<Measured[]> {
  const flags: Record<string, string> = { port: '0', queue: '64', ...(MODEL ? { preload: MODEL } : {}) };
  if (batching === 'on') Object.assign(flags, { 'batch-max': BATCH_MAX, 'batch-delay-ms': BATCH_DELAY_MS });
  const server = await startServer(serverConfig(flags, {}), () => undefined);
  const label = batching === 'on' ? `on (max ${BATCH_MAX}, ${BATCH_DELAY_MS} ms)` : 'off';
  const rows: Measured[] = [];
  try {
    await server.ready;
    await load(server.url, bodies, 8, Math.min(2, SECONDS)); // warm-up: connections, JIT, caches
    for (const connections of CONNECTIONS) {
      // autocannon leaves requests in flight when its time is up: let them finish, so their
      // batches count for the row that sent them.
      await idle(server.pool);
      const before = { ...server.pool.batching };
      const cpuBefore = workersCpuMs(server.pool.pids);
      const mainBefore = workersCpuMs(server.pool.pids, true);
      const result = await load(server.url, bodies, connections, SECONDS);
      await idle(server.pool);
      const served = result.requests.total - result.non2xx;
      const batched = server.pool.batching.batchedItems - before.batchedItems;
      const cpu = cpuBetween(cpuBefore, workersCpuMs(server.pool.pids));
      const mainThreads = cpuBetween(mainBefore, workersCpuMs(server.pool.pids, true));
      rows.push({
        batching: label,
        connections,
        perSecond: round(result.requests.average),
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        failed: result.non2xx + result.errors,
        batchedShare: served > 0 ? round(Math.min(1, batched / served), 2) : 0,
        workerCpuMs: cpu !== undefined && served > 0 ? round(cpu / served, 2) : 'n/a',
        workerMainThreadMs: mainThreads !== undefined && served > 0 ? round(mainThreads / served, 2) : 'n/a',
      });
      process.stderr.write(`batching ${label}, ${connections} connections: ${JSON.stringify(rows.at(-1))}\n`);
    }
  } finally {
    await server.close();
  }
  return rows;
}

/** Batch sizes the engine is timed at, in one process on one thread (no server, no decoding). */
const ENGINE_BATCHES = [1, 4, 8, 16] as const;

/**
 * Models on the engine alone: ms per item run alone and in batches. What a batch can save at
 * most, whatever the server around it does. Every batchable catalog model, or with --quick the
 * served one only.
 */
async function engineAlone(): Promise<Row[]> {
  const catalog = new ModelCatalog({ warmUp: true, engine: 'ort' });
  const served = MODEL ?? catalog.defaultModel;
  const ids = QUICK
    ? [served]
    : catalog
        .entries()
        .filter((entry) => entry.descriptor)
        .map((entry) => entry.id);
  const rows: Row[] = [];
  for (const id of ids) rows.push(...(await engineRows(catalog, id)));
  await catalog.dispose();
  return rows;
}

async function engineRows(catalog: ModelCatalog, id: string): Promise<Row[]> {
  // One inference thread, as each server worker has.
  const model = await THREADS.withValue('1', () => catalog.load(id));
  const engine = model.engine;
  const runBatch = engine.runBatch?.bind(engine);
  if (!engine.batchable || !runBatch) return [{ model: id, note: `not batchable (${model.engineName})` }];
  const item: TensorData[] = engine.inputs.map(zerosFor);
  const rounds = QUICK ? 2 : 10;
  const rows: Row[] = [];
  let alone = 0;
  for (const size of ENGINE_BATCHES) {
    const items = Array.from({ length: size }, () => item);
    await runBatch(items);
    const started = performance.now();
    for (let round = 0; round < rounds; round++) await runBatch(items);
    const perItem = (performance.now() - started) / (rounds * size);
    if (size === 1) alone = perItem;
    rows.push({
      model: id,
      batch: size,
      'ms per item': round(perItem, 2),
      'against alone': `${round(perItem / alone, 2)}x`,
    });
  }
  return rows;
}

function verdict(off: readonly Measured[], on: readonly Measured[]): { rows: Row[]; figures: Figure[] } {
  const at = (rows: readonly Measured[], connections: number) =>
    rows.find((row) => row.connections === connections) as Measured;
  const rows = CONNECTIONS.map((connections) => {
    const a = at(off, connections);
    const b = at(on, connections);
    return {
      connections,
      'speed-up (on / off)': `${round(b.perSecond / Math.max(a.perSecond, 1e-9), 2)}x`,
      'p99 off -> on': `${a.p99Ms} -> ${b.p99Ms} ms`,
    };
  });
  const top = { off: at(off, 32), on: at(on, 32) };
  const figures = [
    judged(
      'speed-up at 32 connections (requests/s, on / off)',
      round(top.on.perSecond / Math.max(top.off.perSecond, 1e-9), 2),
      'x',
      atLeast(TARGET.speedup),
    ),
    judged('p99 at 32 connections, batching on', top.on.p99Ms, 'ms', atMost(TARGET.p99Ms)),
    judged('failed requests at 32 connections, batching on', top.on.failed, '', exactly(0)),
  ];
  return { rows, figures };
}

/** The command that reproduces this run, with the options it was given. */
function commandLine(): string {
  const given = [
    MODEL ? `--model ${MODEL}` : '',
    args['batch-max'] ? `--batch-max ${BATCH_MAX}` : '',
    args['batch-delay-ms'] ? `--batch-delay-ms ${BATCH_DELAY_MS}` : '',
  ].filter(Boolean);
  return `npm run bench:batching${given.length > 0 ? ` -- ${given.join(' ')}` : ''}`;
}

async function main(): Promise<void> {
  const cpu = cpuFacts();
  console.log(`batching bench${QUICK ? ' (--quick)' : ''} on ${cpu.model}, ${cpu.cores} cores, ${cpu.arch}`);
  console.log(`cpu flags: ${cpu.flags.join(' ') || '(none reported)'}`);
  const bodies = photos();
  const engine = await engineAlone();
  console.log(`\nthe engine alone (one thread):\n${table(engine)}\n`);
  const off = await measure('off', bodies);
  const on = await measure('on', bodies);
  const measured = [...off, ...on].map((row) => ({ ...row }) as Row);
  const { rows, figures } = verdict(off, on);
  const conclusion = allMet(figures)
    ? `Batching wins here: at 32 connections it reaches the target (>= ${TARGET.speedup}x, p99 <= ${TARGET.p99Ms} ms).`
    : `Batching does not reach the target here (>= ${TARGET.speedup}x at 32 connections with p99 <= ${TARGET.p99Ms} ms): keep it off on this machine.`;
  console.log(`\n${table(measured)}\n\n${table(rows)}\n\n${table(figureRows(figures))}\n\n${conclusion}`);
  if (!publishing()) return;
  const file = publish({
    name: 'batching',
    title: 'Dynamic batching on the self-hosted server',
    command: commandLine(),
    figures,
    sections: [
      {
        text: `POST /classify (${MODEL ?? 'the default model'}, native engine) over loopback with autocannon, ${SECONDS} s per row, requests cycling through ${bodies.length} different sample photos; one worker per core. "batched share": requests served in an engine run with others; "workerCpuMs": the workers' CPU time (user + system) per request served, which other load on the machine hardly moves; "workerMainThreadMs": of that, the workers' main threads (the inference and the JavaScript around it; the rest is decoding and resizing in libvips's threads, and GC).`,
      },
      { heading: 'The engine alone (one thread, no server, every batchable model)', rows: engine },
      { heading: 'Measured', rows: measured },
      { heading: 'Batching on against off', rows },
      { text: conclusion },
    ],
  });
  console.log(`wrote ${file}`);
}

await main();
