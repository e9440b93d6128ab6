/**
 * The owner thread's side of the host calls (host-calls.ts): compiling and running a guest's
 * TensorFlow Lite models on the engine the deployment selected, and decoding its images.
 *
 * Each call belongs to one run, which may end (its deadline, a crash) while the call is still
 * working: a call for a run that has ended is not started, and image decodes run in a thread
 * of their own that is stopped with the run (decoders.ts).
 */
import { createHash } from 'node:crypto';
import { OrtGuestModel, type ShapedBytes, type WireTensorInfo } from '../engine/ort-guest-model.js';
import {
  compileWithEngine,
  type EngineName,
  type EngineSetting,
  ortThreads,
  parseEngineSetting,
} from '../engine/select.js';
import type { CompiledModel, TensorData } from '../engine/types.js';
import { TfliteFnError, toTfliteFnError } from '../errors.js';
import type { DecodeRequest } from './guest-decode.js';
import type { HostReply, HostRequest } from './host-calls.js';

/** The run a host call belongs to. */
export interface RunContext {
  /** Engines of the models compiled in this run, in order (RunResult.engines). */
  readonly engines: EngineName[];
  /** Date.now() time at which the run is stopped. */
  readonly deadline: number;
  /** False once the run has ended, however it ended. */
  readonly alive: () => boolean;
  /** Decodes an image off the owner thread (decoders.ts). */
  readonly decode: (request: DecodeRequest) => Promise<HostReply>;
}

/** A compiled model as the host ABIs use it: bytes in, bytes out. */
interface HostModel {
  readonly engine: EngineName;
  readonly inputs: readonly WireTensorInfo[];
  readonly outputs: readonly WireTensorInfo[];
  run(inputs: readonly ShapedBytes[]): Promise<Uint8Array[]>;
}

const models = new Map<string, Promise<HostModel>>();
const handles: HostModel[] = [];

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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

class RunEnded extends TfliteFnError {
  constructor() {
    super(504, 'program_timeout', 'the run ended before this call finished', { expose: true });
  }
}

function stillAlive(run: RunContext): void {
  if (!run.alive() || Date.now() >= run.deadline) throw new RunEnded();
}

async function compile(
  request: Extract<HostRequest, { op: 'compile' }>,
  run: RunContext,
): Promise<HostReply> {
  const format = request.format ?? 'tflite';
  const key = `${format}:${request.sha256}`;
  let model = models.get(key);
  if (!model) {
    if (!request.model) return { ok: false, error: 'model not seen yet', unknown: true };
    if (sha256(request.model) !== request.sha256)
      return { ok: false, error: 'the model bytes do not match their sha256' };
    // The engine the deployment selected: a program embedding a model that set-up converted
    // and verified (the WasmEdge classic embeds the default MobileNet) runs it natively.
    model = format === 'onnx' ? compileOnnx(request.model) : compileTflite(request.model, request.sha256);
    models.set(key, model);
    model.catch(() => models.delete(key));
  }
  const compiled = await model;
  run.engines.push(compiled.engine);
  let handle = handles.indexOf(compiled);
  if (handle < 0) handle = handles.push(compiled) - 1;
  return { ok: true, handle, inputs: compiled.inputs, outputs: compiled.outputs };
}

/** A TFLite model on the selected engine: fixed shapes, so each input's is the model's. */
async function compileTflite(
  tflite: Uint8Array | (() => Promise<Uint8Array>),
  sha256: string,
  label = "the program's model",
  setting: EngineSetting = parseEngineSetting(),
): Promise<HostModel> {
  const choice = await compileWithEngine(tflite, sha256, label, setting);
  const model: CompiledModel = choice.model;
  return {
    engine: choice.engine,
    inputs: model.inputs,
    outputs: model.outputs,
    run: async (inputs) => {
      const data = inputs.map(({ bytes }, i) => fromBytes(bytes, model.inputs[i]?.dtype ?? 'uint8'));
      return (await model.run(data)).map(asBytes);
    },
  };
}

/**
 * A TensorFlow Lite model known by its sha256 alone, compiled from its verified conversion
 * (never its bytes): a bundle that ships only the conversions (Netlify) preloads a built-in
 * model this way (runWasm, before the run starts), and the program's compile of that sha256
 * finds it here.
 */
export function compileFromConversion(sha256: string, label: string): void {
  const key = `tflite:${sha256}`;
  if (models.has(key)) return;
  const unread = () => Promise.reject(new Error(`${label}: only its conversion is here`));
  const model = compileTflite(unread, sha256, label, 'ort');
  models.set(key, model);
  model.catch(() => models.delete(key));
}

/** ONNX bytes (WASI-NN's onnx encoding) run on onnxruntime as they are: nothing to convert. */
async function compileOnnx(bytes: Uint8Array): Promise<HostModel> {
  const model = await OrtGuestModel.compile(bytes, "the program's ONNX model", ortThreads());
  return { engine: 'ort', inputs: model.inputs, outputs: model.outputs, run: (inputs) => model.run(inputs) };
}

export async function answer(request: HostRequest, run: RunContext): Promise<HostReply> {
  try {
    stillAlive(run);
    if (request.op === 'compile') return await compile(request, run);
    if (request.op === 'run') {
      const model = handles[request.handle];
      if (!model) return { ok: false, error: 'unknown model handle' };
      const inputs = request.inputs.map((bytes, i) => ({
        bytes,
        shape: request.shapes?.[i] ?? model.inputs[i]?.shape ?? [],
      }));
      return { ok: true, outputs: await model.run(inputs) };
    }
    return await run.decode(request);
  } catch (error) {
    return { ok: false, error: toTfliteFnError(error).message };
  }
}
