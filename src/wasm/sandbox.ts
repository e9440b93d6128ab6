/**
 * runWasm(program, stdin) → what it printed: WasmEdge TensorFlow programs (wasm32-wasi) run
 * here unchanged, their TensorFlow Lite sessions on the engine the deployment selected
 * (LiteRT, or onnxruntime for a model set-up converted and verified).
 *
 * Isolation: the program sees its arguments, the environment it is given, stdin and two
 * capped output streams; no files (unless directories are granted), no network, no host
 * environment. Its memory is capped by rewriting the module's memory maximum; its time by
 * running it in a worker thread that is terminated at the deadline. Programs are compiled once per process (by sha256) and models
 * compiled once per distinct model bytes, so a program that embeds its model pays for
 * compiling it only on its first run.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  compileWithEngine,
  type EngineChoice,
  type EngineName,
  parseEngineSetting,
} from '../engine/select.js';
import type { TensorData } from '../engine/types.js';
import { BadRequestError, TfliteFnError, toTfliteFnError } from '../errors.js';
import { openImage } from '../image/decode.js';
import { resizeToRgb, rgbToTensor } from '../image/to-tensor.js';
import { packageRoot } from '../store/paths.js';
import type { GuestJob, GuestResult } from './guest-worker.js';
import type { HostReply, HostRequest } from './host-calls.js';
import { capMemory } from './memory-cap.js';
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
}

export interface RunResult extends GuestResult {
  readonly timedOut: boolean;
  readonly timings: { readonly compileMs: number; readonly runMs: number };
  /** The engine each model the program opened a session on ran on, in order. */
  readonly engines: readonly EngineName[];
}

const programs = new Map<string, Promise<WebAssembly.Module>>();
const models = new Map<string, Promise<EngineChoice>>();
const handles: EngineChoice[] = [];

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
        return await WebAssembly.compile(capMemory(bytes, memoryBytes) as Uint8Array<ArrayBuffer>);
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

function asBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

function fromBytes(bytes: Uint8Array, dtype: string): TensorData {
  const copy = bytes.slice();
  if (dtype === 'float32') return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  if (dtype === 'int32') return new Int32Array(copy.buffer, 0, copy.byteLength / 4);
  return copy;
}

/** `engines` collects the engine of each model a run compiles (for RunResult.engines). */
async function answer(request: HostRequest, engines: EngineName[]): Promise<HostReply> {
  try {
    if (request.op === 'compile') {
      let model = models.get(request.sha256);
      if (!model) {
        if (!request.model) return { ok: false, error: 'model not seen yet', unknown: true };
        if (sha256(request.model) !== request.sha256)
          return { ok: false, error: 'the model bytes do not match their sha256' };
        // The engine the deployment selected: a program embedding a model that set-up converted
        // and verified (the WasmEdge classic embeds the default MobileNet) runs it natively.
        model = compileWithEngine(request.model, request.sha256, "the program's model", parseEngineSetting());
        models.set(request.sha256, model);
        const key = request.sha256;
        model.catch(() => models.delete(key));
      }
      const choice = await model;
      engines.push(choice.engine);
      let handle = handles.indexOf(choice);
      if (handle < 0) handle = handles.push(choice) - 1;
      return { ok: true, handle, inputs: choice.model.inputs, outputs: choice.model.outputs };
    }
    if (request.op === 'run') {
      const model = handles[request.handle]?.model;
      if (!model) return { ok: false, error: 'unknown model handle' };
      const inputs = request.inputs.map((bytes, i) => fromBytes(bytes, model.inputs[i]?.dtype ?? 'uint8'));
      const outputs = await model.run(inputs);
      return { ok: true, outputs: outputs.map(asBytes) };
    }
    // WasmEdge's loaders stretch to exactly width x height with a bilinear filter (no crop),
    // and give bytes, or bytes / 255 for the 32f layouts.
    const opened = await openImage(request.image);
    const rgb = await resizeToRgb(opened, request.width, request.height, 'fill', 'linear');
    const tensor = rgbToTensor(rgb, {
      width: request.width,
      height: request.height,
      format: request.layout,
      mean: [0, 0, 0],
      std: [255, 255, 255],
    });
    return { ok: true, pixels: asBytes(tensor) };
  } catch (error) {
    return { ok: false, error: toTfliteFnError(error).message };
  }
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
  /** Engines of the models compiled in the current run; emptied when a run starts. */
  readonly engines: EngineName[];
}

/** Idle workers, kept for the next run: starting a worker costs ~30 ms, a run far less. */
const idle: GuestWorker[] = [];
const MAX_IDLE = 4;

function startGuestWorker(): GuestWorker {
  const channel = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const wake = new Int32Array(signal);
  const engines: EngineName[] = [];
  channel.port1.on('message', (request: HostRequest) => {
    void answer(request, engines).then((reply) => {
      channel.port1.postMessage(reply);
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
    });
  });
  const worker = new Worker(guestWorkerFile(), {
    workerData: { port: channel.port2, signal },
    transferList: [channel.port2],
    execArgv: [], // not the host's flags (--input-type, inspectors...)
    // The JS heap of the worker itself; the guest's memory is capped in the module.
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  return { worker, port: channel.port1, engines };
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
  await guest.worker.terminate();
}

/** Checks each grant names a directory, and pins it to its real path before the run. */
function checkedGrants(dirs: readonly DirectoryGrant[]): DirectoryGrant[] {
  return dirs.map((grant) => {
    let host: string;
    try {
      host = realpathSync(grant.host);
    } catch {
      throw new BadRequestError('bad_option', `--dir: ${grant.host} does not exist`);
    }
    if (!statSync(host).isDirectory())
      throw new BadRequestError('bad_option', `--dir: ${grant.host} is not a directory`);
    if (!grant.guest) throw new BadRequestError('bad_option', `--dir: no guest path for ${grant.host}`);
    return { ...grant, host };
  });
}

export async function runWasm(program: Uint8Array, options: RunOptions = {}): Promise<RunResult> {
  const dirs = checkedGrants(options.dirs ?? []);
  const compileStarted = performance.now();
  const module = await compileProgram(program, options.memoryBytes ?? 512 * 1024 * 1024);
  const compileMs = performance.now() - compileStarted;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const guest = idle.pop() ?? startGuestWorker();
  guest.engines.length = 0;
  guest.worker.ref();
  guest.port.ref();
  const runStarted = performance.now();
  const job: GuestJob = {
    module,
    args: options.args ?? ['program.wasm'],
    env: options.env ?? {},
    stdin: options.stdin ?? new Uint8Array(0),
    outputCap: options.outputCap ?? 1024 * 1024,
    dirs,
  };
  let reusable = false;
  try {
    const outcome = await new Promise<GuestResult | 'timeout'>((resolve, reject) => {
      const timer = setTimeout(() => resolve('timeout'), timeoutMs);
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(
          new TfliteFnError(500, 'sandbox_failed', `the sandbox failed: ${error.message}`, {
            cause: error,
            expose: true,
          }),
        );
      };
      guest.worker.once('error', onError);
      guest.worker.once('message', (result: GuestResult) => {
        clearTimeout(timer);
        guest.worker.off('error', onError);
        resolve(result);
      });
      guest.worker.postMessage(job);
    });
    const runMs = performance.now() - runStarted;
    if (outcome === 'timeout') {
      const empty = new Uint8Array(0);
      const message = new TextEncoder().encode(
        `tflite-fn: the program ran longer than ${timeoutMs} ms and was stopped\n`,
      );
      return {
        exitCode: 124,
        stdout: empty,
        stderr: message,
        stdoutTruncated: false,
        stderrTruncated: false,
        timedOut: true,
        timings: { compileMs, runMs },
        engines: [...guest.engines],
      };
    }
    reusable = true;
    return { ...outcome, timedOut: false, timings: { compileMs, runMs }, engines: [...guest.engines] };
  } finally {
    // A worker that timed out or failed is stopped, never reused.
    if (reusable) park(guest);
    else await stop(guest);
  }
}
