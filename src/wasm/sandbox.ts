/**
 * runWasm(program, stdin) → what it printed: WasmEdge TensorFlow programs (wasm32-wasi) run
 * here unchanged, their TensorFlow Lite sessions on the engine the deployment selected
 * (LiteRT, or onnxruntime for a model set-up converted and verified).
 *
 * Isolation: the program sees its arguments, the environment it is given, stdin and two
 * capped output streams; no files (unless directories are granted), no network, no host
 * environment. Its memory and tables are capped by rewriting the module (module-limits.ts),
 * every size it hands a host function is checked before the host allocates, and its time by
 * running it in a worker thread that is terminated at the deadline, with its image decodes in
 * a thread terminated with it (decoders.ts). At most MAX_CONCURRENT_RUNS run at once
 * (run-slots.ts). Programs are compiled once per process (by sha256) and models compiled once
 * per distinct model bytes, so a program that embeds its model pays for compiling it only on
 * its first run.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { NN_GUEST_ONNX } from '../config/index.js';
import type { EngineName } from '../engine/select.js';
import { BadRequestError, TfliteFnError } from '../errors.js';
import { defaultImageLimits } from '../image/decode.js';
import { modelFileLimit } from '../model/model-file.js';
import { packageRoot } from '../store/paths.js';
import { ImageDecoder } from './decoders.js';
import { checkedGrants } from './grants.js';
import type { GuestJob, GuestResult } from './guest-worker.js';
import { answer, compileFromConversion, type RunContext } from './host-answers.js';
import type { HostRequest } from './host-calls.js';
import { limitModule } from './module-limits.js';
import { type NnPreload, type ResolvedPreload, resolvePreloads } from './nn-preload.js';
import { releaseSlot, takeSlot } from './run-slots.js';
import type { DirectoryGrant } from './wasi-files.js';

export interface RunOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: Uint8Array;
  readonly timeoutMs?: number;
  readonly memoryBytes?: number;
  readonly outputCap?: number;
  /** Host directories to grant (WASI preopens); by default the program sees no files. */
  readonly dirs?: readonly DirectoryGrant[];
  /** Models for WASI-NN's load_by_name, as `wasmedge --nn-preload` gives them (nn-preload.ts). */
  readonly nnPreload?: readonly NnPreload[];
  /**
   * Let the program load ONNX bytes of its own (WASI-NN `load` with encoding onnx). Off by
   * default (deny by default): a TensorFlow Lite model from a program runs in LiteRT's
   * WebAssembly (or on onnxruntime only as our own verified conversion), but a program's ONNX
   * graph would run as it comes on native onnxruntime, outside the sandbox's memory cap, with
   * every operator and shape the graph asks for. ONNX models the operator preloads
   * (`nnPreload`) are the operator's files and always allowed. Default: TFLITE_FN_NN_GUEST_ONNX=1.
   */
  readonly nnGuestOnnx?: boolean;
}

export interface RunResult extends GuestResult {
  readonly timedOut: boolean;
  readonly timings: { readonly compileMs: number; readonly runMs: number };
  /** The engine each model the program opened a session on ran on, in order. */
  readonly engines: readonly EngineName[];
}

const programs = new Map<string, Promise<WebAssembly.Module>>();

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Hashing a 9 MB program costs ~7 ms, a third of a warm run: callers that run the same bytes
 * again (a handler serving one program) pass the same array, which is remembered here.
 */
const seen = new WeakMap<Uint8Array, Map<number, Promise<WebAssembly.Module>>>();

async function compileProgram(bytes: Uint8Array, memoryBytes: number): Promise<WebAssembly.Module> {
  const known = seen.get(bytes)?.get(memoryBytes);
  if (known) return known;
  const key = `${sha256(bytes)}:${memoryBytes}`;
  let compiled = programs.get(key);
  if (!compiled) {
    compiled = (async () => {
      try {
        return await WebAssembly.compile(limitModule(bytes, memoryBytes) as Uint8Array<ArrayBuffer>);
      } catch (cause) {
        throw new BadRequestError(
          'bad_program',
          `not a WebAssembly program this sandbox can run: ${(cause as Error).message}`,
          { cause },
        );
      }
    })();
    programs.set(key, compiled);
    compiled.catch(() => programs.delete(key));
  }
  const byCap = seen.get(bytes) ?? new Map<number, Promise<WebAssembly.Module>>();
  byCap.set(memoryBytes, compiled);
  seen.set(bytes, byCap);
  return compiled;
}

/**
 * The worker's script sits beside this file, except where a bundler (Netlify's esbuild) moved
 * this code into one file: there it ships as an included file under the package folder.
 */
function guestWorkerFile(): URL | string {
  const beside = new URL('./guest-worker.js', import.meta.url);
  if (existsSync(beside)) return beside;
  return join(packageRoot(), 'dist', 'src', 'wasm', 'guest-worker.js');
}

interface GuestWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly decoder: ImageDecoder;
  /** The run in progress, which the worker's host calls belong to. */
  run?: RunContext | undefined;
}

/** Idle workers, kept for the next run: starting a worker costs ~30 ms, a run far less. */
const idle: GuestWorker[] = [];
const MAX_IDLE = 4;
/**
 * The JS heap of a guest worker (the guest's linear memory is capped in the module, outside
 * this). Module limits keep every allocation a guest can cause far below it, so reaching it
 * ends the worker (ERR_WORKER_OUT_OF_MEMORY) rather than V8 aborting the process.
 */
const WORKER_HEAP_MB = 64;

function startGuestWorker(): GuestWorker {
  const channel = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const wake = new Int32Array(signal);
  const worker = new Worker(guestWorkerFile(), {
    workerData: { port: channel.port2, signal },
    transferList: [channel.port2],
    execArgv: [], // not the host's flags (--input-type, inspectors...)
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  const guest: GuestWorker = { worker, port: channel.port1, decoder: new ImageDecoder() };
  channel.port1.on('message', (request: HostRequest) => {
    const run = guest.run;
    if (!run) return;
    void answer(request, run).then((reply) => {
      if (!run.alive()) return; // nobody waits for it: the worker is being stopped
      channel.port1.postMessage(reply);
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
    });
  });
  return guest;
}

function park(guest: GuestWorker): void {
  if (idle.length >= MAX_IDLE) {
    void stop(guest);
    return;
  }
  // An idle worker must not keep the process alive.
  guest.worker.unref();
  guest.port.unref();
  idle.push(guest);
}

async function stop(guest: GuestWorker): Promise<void> {
  guest.port.close();
  await Promise.all([guest.worker.terminate(), guest.decoder.stop()]);
}

type Outcome = GuestResult | { readonly stopped: 'timeout' | 'memory' };

/** Posts the job and waits for the result, the deadline, or the worker's death. */
function awaitOutcome(guest: GuestWorker, job: GuestJob, timeoutMs: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      guest.worker.off('error', onError);
      guest.worker.off('message', onMessage);
    };
    const timer = setTimeout(() => {
      done();
      resolve({ stopped: 'timeout' });
    }, timeoutMs);
    const onError = (error: Error & { code?: string }) => {
      done();
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') return resolve({ stopped: 'memory' });
      reject(
        new TfliteFnError(500, 'sandbox_failed', `the sandbox failed: ${error.message}`, {
          cause: error,
          expose: true,
        }),
      );
    };
    const onMessage = (result: GuestResult) => {
      done();
      resolve(result);
    };
    guest.worker.on('error', onError);
    guest.worker.on('message', onMessage);
    guest.worker.postMessage(job);
  });
}

const STOPPED = {
  timeout: { exitCode: 124, message: (ms: number) => `ran longer than ${ms} ms and was stopped` },
  memory: {
    exitCode: 137,
    message: () => `used more than the sandbox's ${WORKER_HEAP_MB} MB of host heap and was stopped`,
  },
} as const;

interface Timing {
  readonly compileMs: number;
  readonly timeoutMs: number;
  readonly deadline: number;
}

function stoppedResult(
  why: keyof typeof STOPPED,
  timing: Timing,
  runMs: number,
  engines: readonly EngineName[],
): RunResult {
  const { exitCode, message } = STOPPED[why];
  return {
    exitCode,
    stdout: new Uint8Array(0),
    stderr: new TextEncoder().encode(`tflite-fn: the program ${message(timing.timeoutMs)}\n`),
    stdoutTruncated: false,
    stderrTruncated: false,
    timedOut: why === 'timeout',
    timings: { compileMs: timing.compileMs, runMs },
    engines: [...engines],
  };
}

const decodes = new WeakMap<WebAssembly.Module, boolean>();

function importsImages(module: WebAssembly.Module): boolean {
  let known = decodes.get(module);
  if (known === undefined) {
    known = WebAssembly.Module.imports(module).some((entry) => entry.module === 'wasmedge_image');
    decodes.set(module, known);
  }
  return known;
}

/** One run in a guest worker, which is reused afterwards only if the run ended on its own. */
async function runInWorker(
  module: WebAssembly.Module,
  options: RunOptions,
  dirs: DirectoryGrant[],
  timing: Timing,
  preloads: readonly ResolvedPreload[],
): Promise<RunResult> {
  const guest = idle.pop() ?? startGuestWorker();
  let alive = true;
  const { deadline } = timing;
  const run: RunContext = {
    engines: [],
    deadline,
    alive: () => alive,
    decode: (request) => guest.decoder.decode(request, deadline),
  };
  guest.run = run;
  if (importsImages(module)) guest.decoder.prepare();
  guest.worker.ref();
  guest.port.ref();
  const runStarted = performance.now();
  const job: GuestJob = {
    module,
    args: options.args ?? ['program.wasm'],
    env: options.env ?? {},
    stdin: options.stdin ?? new Uint8Array(0),
    outputCap: checkedNumber('outputCap', options.outputCap, 1024 * 1024),
    dirs,
    limits: { maxInputBytes: defaultImageLimits().maxBytes, maxModelBytes: modelFileLimit().maxBytes },
    preloads,
    guestOnnx: options.nnGuestOnnx ?? NN_GUEST_ONNX.value(),
    deadline,
  };
  let reusable = false;
  try {
    const outcome = await awaitOutcome(guest, job, Math.max(0, deadline - Date.now()));
    const runMs = performance.now() - runStarted;
    if ('stopped' in outcome) return stoppedResult(outcome.stopped, timing, runMs, run.engines);
    reusable = true;
    return {
      ...outcome,
      timedOut: false,
      timings: { compileMs: timing.compileMs, runMs },
      engines: [...run.engines],
    };
  } finally {
    alive = false;
    guest.run = undefined;
    // A worker that timed out or failed is stopped, never reused; the caller has its answer
    // without waiting for that.
    if (reusable) park(guest);
    else void stop(guest).catch(() => undefined);
  }
}

/** A limit a caller passes must be a positive number: NaN would silently mean no limit, or none at all. */
function checkedNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new BadRequestError('bad_option', `runWasm: ${name} must be a positive number, got ${value}`);
  return value;
}

export async function runWasm(program: Uint8Array, options: RunOptions = {}): Promise<RunResult> {
  const dirs = checkedGrants(options.dirs ?? []);
  // A missing or oversized preload is the caller's mistake, told before anything runs.
  const preloads = resolvePreloads(options.nnPreload ?? [], modelFileLimit().maxBytes);
  for (const preload of preloads)
    if (preload.fromConversion)
      compileFromConversion(preload.sha256, `the model preloaded as '${preload.name}'`);
  const compileStarted = performance.now();
  const memoryBytes = checkedNumber('memoryBytes', options.memoryBytes, 512 * 1024 * 1024);
  const module = await compileProgram(program, memoryBytes);
  const compileMs = performance.now() - compileStarted;
  const timeoutMs = checkedNumber('timeoutMs', options.timeoutMs, 10_000);
  // The deadline counts the wait for a slot (run-slots.ts).
  const timing: Timing = { compileMs, timeoutMs, deadline: Date.now() + timeoutMs };
  const queued = performance.now();
  if (!(await takeSlot(timing.deadline)))
    return stoppedResult('timeout', timing, performance.now() - queued, []);
  try {
    return await runInWorker(module, options, dirs, timing, preloads);
  } finally {
    releaseSlot();
  }
}
