/**
 * Runs one guest program in a worker thread, so the owner can stop it (timeout) without
 * stopping itself. Host functions that need LiteRT or sharp ask the owner thread and wait:
 * the request goes over a MessagePort, the owner answers on it and wakes us with Atomics, and
 * we take the answer with receiveMessageOnPort, synchronously, as the guest expects.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { GuestFault, GuestMemory } from './guest-memory.js';
import type { HostCall, HostLimits, HostReply } from './host-calls.js';
import { EXIT_FAILURE, linkFailureMessage, linkImports } from './link.js';
import type { ResolvedPreload } from './nn-preload.js';
import { createTensorflowHost } from './tensorflow-host.js';
import { createWasi, GuestExit } from './wasi.js';
import { type DirectoryGrant, GrantedFiles } from './wasi-files.js';
import { createWasiNn } from './wasi-nn.js';

/** Set once per worker: the line to the owner thread for host calls. */
export interface GuestWorkerData {
  readonly port: MessagePort;
  readonly signal: SharedArrayBuffer;
}

/** One run. A worker runs many, one after another, each in a fresh instance and memory. */
export interface GuestJob {
  readonly module: WebAssembly.Module;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: Uint8Array;
  readonly outputCap: number;
  /** Host directories the program may use (none: no filesystem at all). */
  readonly dirs: readonly DirectoryGrant[];
  readonly limits: HostLimits;
  /** Models for WASI-NN's load_by_name (--nn-preload). */
  readonly preloads: readonly ResolvedPreload[];
  /** Whether WASI-NN may load the program's own ONNX bytes (sandbox.ts: RunOptions.nnGuestOnnx). */
  readonly guestOnnx: boolean;
  /** When the run must end (Date.now() time): a host call never waits past it. */
  readonly deadline: number;
}

export interface GuestResult {
  readonly exitCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
}

const { port, signal: shared } = workerData as GuestWorkerData;
const signal = new Int32Array(shared);

/**
 * The owner stops this worker at the deadline; waiting no longer than that here as well means
 * the guest ends on time even if the owner is slow to do so.
 */
const callUntil =
  (deadline: number): HostCall =>
  (request) => {
    Atomics.store(signal, 0, 0);
    port.postMessage(request);
    if (Atomics.wait(signal, 0, 0, Math.max(0, deadline - Date.now())) === 'timed-out')
      return { ok: false, error: 'the run reached its deadline during this call' };
    const reply = receiveMessageOnPort(port);
    return (reply?.message as HostReply | undefined) ?? { ok: false, error: 'the host did not answer' };
  };

function run(job: GuestJob): GuestResult {
  let memory: GuestMemory | undefined;
  const guestMemory = () => {
    if (!memory) throw new GuestFault('the program has no memory export');
    return memory;
  };
  const files = new GrantedFiles(job.dirs);
  const wasi = createWasi(job, files, guestMemory);
  const complain = (message: string) => wasi.stderr.append(new TextEncoder().encode(message));
  const host = createTensorflowHost(callUntil(job.deadline), guestMemory, complain, job.limits);

  let exitCode = 0;
  try {
    // Every module the sandbox provides, by import name (link.ts lists them from here).
    const modules: Record<string, object> = {
      wasi_snapshot_preview1: wasi.module,
      ...host,
      wasi_ephemeral_nn: createWasiNn(
        callUntil(job.deadline),
        guestMemory,
        complain,
        job.limits,
        job.preloads,
        job.guestOnnx,
      ),
    };
    const instance = new WebAssembly.Instance(job.module, linkImports(job.module, modules));
    const exported = instance.exports.memory;
    if (exported instanceof WebAssembly.Memory) memory = new GuestMemory(exported);
    const start = instance.exports._start;
    if (typeof start !== 'function')
      throw new GuestFault('the program exports no _start (is it a wasm32-wasi command?)');
    start();
  } catch (error) {
    const linkFailure = linkFailureMessage(error);
    if (error instanceof GuestExit) exitCode = error.code;
    else if (linkFailure !== undefined) {
      exitCode = EXIT_FAILURE;
      complain(`tflite-fn: the program cannot start: ${linkFailure}\n`);
    } else {
      exitCode = EXIT_FAILURE;
      const reason =
        error instanceof GuestFault
          ? `bad pointer: ${error.message}`
          : String(error instanceof Error ? error.message : error);
      complain(`tflite-fn: the program stopped: ${reason}\n`);
    }
  } finally {
    files.closeAll();
  }
  return {
    exitCode,
    stdout: wasi.stdout.bytes(),
    stderr: wasi.stderr.bytes(),
    stdoutTruncated: wasi.stdout.truncated,
    stderrTruncated: wasi.stderr.truncated,
  };
}

parentPort?.on('message', (job: GuestJob) => parentPort?.postMessage(run(job)));
