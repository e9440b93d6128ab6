/**
 * `wasi_ephemeral_nn`: the WASI-NN host module as WasmEdge's plugin implements it (the witx
 * "ephemeral" ABI plus WasmEdge's extensions), over the same model compilation as the legacy
 * TensorFlow Lite host: a model set-up converted and verified runs on onnxruntime, any other
 * on LiteRT, each distinct model compiled once per process (tflite-sessions.ts). ONNX models
 * (encoding 1) run on onnxruntime as they come.
 *
 * Numbers are WasmEdge's (plugins/wasi_nn/wasinntypes.h): encodings openvino 0, onnx 1,
 * tensorflow 2, pytorch 3, tensorflowlite 4, autodetect 5, ggml 6; targets cpu 0, gpu 1,
 * tpu 2, auto 3; tensor types as TENSOR_TYPES below. Errors are NN_ERRNO below.
 *
 * Where WasmEdge gives a guest more rope, this host does not: every pointer is bounds-checked
 * (WasmEdge answers invalid_argument for one outside memory, and so do we), a bad graph or
 * context id is refused instead of indexing past a vector, and an output read before compute
 * is refused instead of handing back whatever the tensor held.
 */
import { readFileSync, statSync } from 'node:fs';
import {
  bytesPerElement,
  type ShapedBytes,
  type WireTensorInfo as TensorInfo,
} from '../engine/ort-guest-model.js';
import { GuestFault, type GuestMemory } from './guest-memory.js';
import type { HostCall, HostLimits, ModelFormat } from './host-calls.js';
import { errnoOf, HostFailure } from './host-failure.js';
import { isTflite, type ResolvedPreload } from './nn-preload.js';
import {
  byteLength,
  compileGuestModel,
  compileKnownModel,
  type GuestModel,
  MAX_SESSIONS,
} from './tflite-sessions.js';

/** WASI-NN's error numbers (witx `$nn_errno`, WasmEdge's WASINN::ErrNo). */
export const NN_ERRNO = {
  SUCCESS: 0,
  INVALID_ARGUMENT: 1,
  INVALID_ENCODING: 2,
  MISSING_MEMORY: 3,
  BUSY: 4,
  RUNTIME_ERROR: 5,
  UNSUPPORTED_OPERATION: 6,
  TOO_LARGE: 7,
  NOT_FOUND: 8,
} as const;

export const GRAPH_ENCODING = { onnx: 1, tensorflowlite: 4, autodetect: 5 } as const;
/**
 * What each encoding runs on: TensorFlow Lite on the selected engine; ONNX on onnxruntime as
 * it comes (WasmEdge's own ONNX backend is a stub, wasmtime's runs it: programs written for
 * wasmtime run here too).
 */
const FORMATS = new Map<number, ModelFormat>([
  [GRAPH_ENCODING.onnx, 'onnx'],
  [GRAPH_ENCODING.tensorflowlite, 'tflite'],
]);
const ENCODING_NAMES = ['openvino', 'onnx', 'tensorflow', 'pytorch', 'tensorflowlite', 'autodetect', 'ggml'];
const TARGET_CPU = 0;
const TARGET_NAMES = ['cpu', 'gpu', 'tpu', 'auto'];

/**
 * WASI-NN tensor types by number, as the wasi-nn crate 0.6, WasmEdge 0.14+ and wasmtime's witx
 * number them (f64 between f32 and u8), with the engines' dtype names. The older witx had only
 * f16 0, f32 1, u8 2, i32 3: a program built with it sends u8 as 2, which reads as f64 now, as
 * in WasmEdge, and is refused with a reason that says so.
 */
const TENSOR_TYPES = [
  { name: 'f16', dtype: 'float16' },
  { name: 'f32', dtype: 'float32' },
  { name: 'f64', dtype: 'float64' },
  { name: 'u8', dtype: 'uint8' },
  { name: 'i32', dtype: 'int32' },
  { name: 'i64', dtype: 'int64' },
] as const;
const typeName = (dtype: string) => TENSOR_TYPES.find((type) => type.dtype === dtype)?.name ?? dtype;
/** What each number meant in the older witx numbering, to say so when a program still uses it. */
const OLD_WITX_TYPES = ['float16', 'float32', 'uint8', 'int32'];

/** A hint when the program numbered the model's own type as the older witx did. */
function oldNumbering(type: number, info: TensorInfo): string {
  if (OLD_WITX_TYPES[type] !== info.dtype) return '';
  const now = TENSOR_TYPES.findIndex((entry) => entry.dtype === info.dtype);
  return ` (${type} was ${typeName(info.dtype)} in the older witx numbering, wasi-nn < 0.6; it is ${now} in wasi-nn 0.6 and WasmEdge 0.14+)`;
}

/** A model rank far past any real one: dimensions beyond it are refused before they are read. */
const MAX_RANK = 16;
/** `tensor` in guest memory: dims pointer, dims length, type, data pointer, data length. */
const TENSOR_STRUCT_BYTES = 20;
/** `graph_builder` in guest memory: pointer, length. */
const BUILDER_BYTES = 8;

interface Context {
  readonly graph: GuestModel;
  readonly given: (ShapedBytes | undefined)[];
  results?: readonly Uint8Array[] | undefined;
}

type Complain = (message: string) => void;

const fail = (errno: number, message: string) => new HostFailure(errno, message);
const invalid = (message: string) => fail(NN_ERRNO.INVALID_ARGUMENT, message);
const describe = (info: TensorInfo) =>
  `${typeName(info.dtype)} [${info.shape.map((d) => (d === -1 ? '?' : d)).join(', ')}]`;

/** `tensor` as set_input reads it, every pointer checked against guest memory. */
interface GuestTensor {
  readonly dims: readonly number[];
  readonly type: number;
  readonly dataPtr: number;
  readonly dataLen: number;
}

function readTensor(memory: GuestMemory, tensorPtr: number): GuestTensor {
  const fields = new DataView(memory.read(tensorPtr, TENSOR_STRUCT_BYTES).buffer);
  const [dimsPtr, rank, type, dataPtr, dataLen] = [0, 4, 8, 12, 16].map((at) =>
    fields.getUint32(at, true),
  ) as [number, number, number, number, number];
  if (rank > MAX_RANK) throw invalid(`a rank-${rank} tensor; the limit is ${MAX_RANK}`);
  const dimsView = new DataView(memory.read(dimsPtr, 4 * rank).buffer);
  const dims = Array.from({ length: rank }, (_, d) => dimsView.getUint32(4 * d, true));
  memory.view(dataPtr, dataLen);
  return { dims, type, dataPtr, dataLen };
}

/**
 * The shape the input will run with. A fixed-shape input is checked as WasmEdge's TFLite
 * backend checks it (byte size, rank, every dimension). An input the model leaves open (an
 * ONNX batch dimension) takes the program's sizes there: the rank and every fixed dimension
 * still checked, each open one at least 1, and the bytes those sizes make computed and capped
 * (TFLITE_FN_MAX_BYTES, too_large) before the data is compared or copied.
 */
function checkedShape(info: TensorInfo, tensor: GuestTensor, expected: string, maxInputBytes: number) {
  const { dims, dataLen } = tensor;
  const open = info.shape.includes(-1);
  if (!open && dataLen !== byteLength(info))
    throw invalid(`${expected} (${byteLength(info)} bytes); got ${dataLen} bytes`);
  if (dims.length !== info.shape.length) throw invalid(`${expected}; got rank ${dims.length}`);
  dims.forEach((size, d) => {
    const wanted = info.shape[d];
    if (wanted === -1 ? size === 0 : size !== wanted)
      throw invalid(
        `${expected}; got dimension ${d} = ${size}${wanted === -1 ? ' (an open dimension is at least 1)' : ''}`,
      );
  });
  if (!open) return info.shape;
  // Dimension by dimension against the cap, so no product grows past it unnoticed (a fixed 0
  // counts as 1 here: it must not let an open dimension be any size).
  const maxElements = Math.floor(maxInputBytes / bytesPerElement(info.dtype));
  let bound = 1;
  for (const size of dims) {
    bound *= Math.max(size, 1);
    if (bound > maxElements)
      throw fail(
        NN_ERRNO.TOO_LARGE,
        `${expected}; dimensions [${dims.join(', ')}] make more than ${maxInputBytes} bytes (TFLITE_FN_MAX_BYTES)`,
      );
  }
  const bytes = dims.reduce((a, b) => a * b, 1) * bytesPerElement(info.dtype);
  if (dataLen !== bytes)
    throw invalid(`${expected}; dimensions [${dims.join(', ')}] make ${bytes} bytes, got ${dataLen}`);
  return dims;
}

/**
 * A TensorFlow Lite flatbuffer carries the file identifier 'TFL3' at byte 4; that is the only
 * format autodetect can tell from the bytes here. ONNX protobufs carry no magic number, so
 * their bytes get invalid_encoding, the errno WasmEdge gives autodetect for any bytes (it has
 * no autodetect backend): a program loading ONNX names the encoding.
 */
function detectEncoding(memory: GuestMemory, pointer: number, length: number): number {
  if (isTflite(memory.view(pointer, Math.min(length, 8)))) return GRAPH_ENCODING.tensorflowlite;
  throw fail(
    NN_ERRNO.INVALID_ENCODING,
    "autodetect: the bytes are not a TensorFlow Lite model (no 'TFL3' identifier); ONNX has no magic number to detect: load it with encoding onnx (1)",
  );
}

export class WasiNn {
  readonly #graphs = new Map<number, GuestModel>();
  readonly #contexts = new Map<number, Context>();
  #nextGraph = 0;
  #nextContext = 0;

  constructor(
    private readonly call: HostCall,
    private readonly memory: () => GuestMemory,
    private readonly maxModelBytes: number,
    private readonly maxInputBytes: number,
    private readonly preloads: readonly ResolvedPreload[] = [],
    private readonly guestOnnx = false,
  ) {}

  /** Graph ids of the preloaded models this run loaded, by name: a name loads once (as WasmEdge). */
  readonly #byName = new Map<string, number>();

  /** `load_by_name(_with_config)`: a model preloaded with --nn-preload (the config is not used). */
  loadByName(namePtr: number, nameLen: number, graphOut: number): void {
    const memory = this.memory();
    memory.writeU32(graphOut, 0);
    const name = memory.readString(namePtr, nameLen);
    const known = this.#byName.get(name);
    if (known !== undefined && this.#graphs.has(known)) {
      memory.writeU32(graphOut, known);
      return;
    }
    const preload = this.preloads.find((entry) => entry.name === name);
    if (!preload) {
      const names = this.preloads.map((entry) => `'${entry.name}'`).join(', ') || 'none';
      throw fail(NN_ERRNO.NOT_FOUND, `no model preloaded as '${name}' (--nn-preload; preloaded: ${names})`);
    }
    if (this.#graphs.size >= MAX_SESSIONS)
      throw fail(NN_ERRNO.BUSY, `${MAX_SESSIONS} graphs are loaded; unload one`);
    const graph = compileKnownModel(this.call, preload.sha256, preload.format, () =>
      readPreload(preload, this.maxModelBytes),
    );
    const id = this.#nextGraph++;
    this.#graphs.set(id, graph);
    this.#byName.set(name, id);
    memory.writeU32(graphOut, id);
  }

  load(buildersPtr: number, buildersLen: number, encoding: number, target: number, graphOut: number): void {
    const memory = this.memory();
    memory.writeU32(graphOut, 0); // checks the out-pointer before compiling anything
    if (target >>> 0 !== TARGET_CPU)
      // As WasmEdge's TensorFlow Lite backend: it has no GPU or TPU delegate and refuses the
      // target instead of running somewhere the program did not ask for.
      throw invalid(`target ${TARGET_NAMES[target >>> 0] ?? target >>> 0}: only cpu is supported`);
    if (buildersLen >>> 0 !== 1)
      throw invalid(`${buildersLen >>> 0} graph builders; a model here is exactly one`);
    const builder = memory.read(buildersPtr, BUILDER_BYTES);
    const fields = new DataView(builder.buffer);
    const [pointer, length] = [fields.getUint32(0, true), fields.getUint32(4, true)];
    memory.view(pointer, length); // refused here if outside memory, whatever the encoding
    const chosen =
      encoding >>> 0 === GRAPH_ENCODING.autodetect ? detectEncoding(memory, pointer, length) : encoding >>> 0;
    const format = FORMATS.get(chosen);
    if (!format)
      throw fail(
        NN_ERRNO.INVALID_ENCODING,
        `encoding ${ENCODING_NAMES[chosen] ?? chosen} is not supported; this host runs onnx (1), tensorflowlite (4) and autodetect (5)`,
      );
    if (format === 'onnx' && !this.guestOnnx)
      // The program's own ONNX graph would run on native onnxruntime, outside the sandbox's
      // memory cap (see RunOptions.nnGuestOnnx): refused unless the operator allows it, with
      // the errno WasmEdge gives for an encoding it does not run.
      throw fail(
        NN_ERRNO.INVALID_ENCODING,
        'encoding onnx from the program itself is off: it would run natively, outside the sandbox (allow it with TFLITE_FN_NN_GUEST_ONNX=1, or preload the model: --nn-preload NAME:ONNX:CPU:PATH)',
      );
    if (this.#graphs.size >= MAX_SESSIONS)
      throw fail(NN_ERRNO.BUSY, `${MAX_SESSIONS} graphs are loaded; unload one`);
    const graph = compileGuestModel(this.call, this.maxModelBytes, memory, pointer, length, format);
    const id = this.#nextGraph++;
    this.#graphs.set(id, graph);
    memory.writeU32(graphOut, id);
  }

  #graph(id: number): GuestModel {
    const graph = this.#graphs.get(id >>> 0);
    if (!graph) throw invalid(`no graph ${id >>> 0}`);
    return graph;
  }

  #context(id: number): Context {
    const context = this.#contexts.get(id >>> 0);
    if (!context) throw invalid(`no execution context ${id >>> 0}`);
    return context;
  }

  initExecutionContext(graphId: number, contextOut: number): void {
    this.memory().writeU32(contextOut, 0);
    const graph = this.#graph(graphId);
    if (this.#contexts.size >= MAX_SESSIONS)
      throw fail(NN_ERRNO.BUSY, `${MAX_SESSIONS} execution contexts are open; finalize one`);
    const id = this.#nextContext++;
    this.#contexts.set(id, { graph, given: graph.inputs.map(() => undefined) });
    this.memory().writeU32(contextOut, id);
  }

  /** Ends a "single" stream: a one-shot model has no stream state, only the context to check. */
  finiSingle(contextId: number): void {
    this.#context(contextId);
  }

  unload(graphId: number): void {
    this.#graph(graphId);
    this.#graphs.delete(graphId >>> 0);
  }

  finalizeExecutionContext(contextId: number): void {
    this.#context(contextId);
    this.#contexts.delete(contextId >>> 0);
  }

  /**
   * Checks in WasmEdge's order: the struct and the memory it points to, the type, the context,
   * the index, then the tensor against the model's input (checkedShape), then the type again.
   */
  setInput(contextId: number, index: number, tensorPtr: number): void {
    const memory = this.memory();
    const tensor = readTensor(memory, tensorPtr);
    const given = TENSOR_TYPES[tensor.type];
    if (!given) throw invalid(`unknown tensor type ${tensor.type}`);
    const context = this.#context(contextId);
    const info = context.graph.inputs[index >>> 0];
    if (!info) throw invalid(`no input ${index >>> 0}; the model has ${context.graph.inputs.length}`);
    const expected = `input ${index >>> 0} is ${describe(info)}`;
    const shape = checkedShape(info, tensor, expected, this.maxInputBytes);
    if (given.dtype !== info.dtype)
      throw invalid(`${expected}; got type ${given.name}${oldNumbering(tensor.type, info)}`);
    context.given[index >>> 0] = { bytes: memory.read(tensor.dataPtr, tensor.dataLen), shape };
    context.results = undefined;
  }

  compute(contextId: number): void {
    const context = this.#context(contextId);
    const missing = context.given.flatMap((data, i) => (data ? [] : [i]));
    if (missing.length > 0) throw invalid(`inputs not set: ${missing.join(', ')}`);
    const given = context.given as ShapedBytes[];
    const reply = this.call({
      op: 'run',
      handle: context.graph.handle,
      inputs: given.map((input) => input.bytes),
      shapes: given.map((input) => input.shape),
    });
    // WasmEdge answers a failed TfLiteInterpreterInvoke with busy.
    if (!reply.ok) throw fail(NN_ERRNO.BUSY, reply.error);
    if (!('outputs' in reply) || !(reply.outputs[0] instanceof Uint8Array))
      throw fail(NN_ERRNO.RUNTIME_ERROR, 'unexpected reply');
    context.results = reply.outputs as Uint8Array[];
  }

  getOutput(contextId: number, index: number, bufPtr: number, bufMax: number, writtenPtr: number): void {
    const memory = this.memory();
    memory.view(bufPtr, bufMax);
    memory.writeU32(writtenPtr, 0);
    const context = this.#context(contextId);
    const info = context.graph.outputs[index >>> 0];
    if (!info) throw invalid(`no output ${index >>> 0}; the model has ${context.graph.outputs.length}`);
    const data = context.results?.[index >>> 0];
    if (!data) throw invalid('compute has not succeeded on this context yet');
    // As WasmEdge's TFLite backend: `written` says the size needed even when it does not fit.
    memory.writeU32(writtenPtr, data.length);
    if (bufMax >>> 0 < data.length)
      throw fail(
        NN_ERRNO.TOO_LARGE,
        `output ${index >>> 0} is ${describe(info)}, ${data.length} bytes; the buffer holds ${bufMax >>> 0}`,
      );
    memory.write(bufPtr, data);
  }
}

/**
 * The preloaded file, read only when the owner has not compiled it yet; its size is checked
 * again, as it may have changed since the run started.
 */
function readPreload(preload: ResolvedPreload, maxModelBytes: number): Uint8Array {
  let size: number;
  try {
    size = statSync(preload.path).size;
    // Checked before reading: a file grown huge is never read.
    if (size <= maxModelBytes) return readFileSync(preload.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw fail(NN_ERRNO.NOT_FOUND, `the model preloaded as '${preload.name}' cannot be read (${code})`);
  }
  throw invalid(`the model preloaded as '${preload.name}' is ${size} bytes; the limit is ${maxModelBytes}`);
}

/**
 * WasmEdge answers invalid_argument for a pointer outside memory (MissingMemory means a graph
 * without its model there); the legacy ABI's mapping (host-failure.ts) says missing_memory.
 */
function nnErrnoOf(what: string, complain: Complain, body: () => void): number {
  return errnoOf(what, complain, () => {
    try {
      body();
    } catch (error) {
      if (error instanceof GuestFault) throw invalid(`bad pointer: ${error.message}`);
      throw error;
    }
  });
}

export function createWasiNn(
  call: HostCall,
  memory: () => GuestMemory,
  complain: Complain,
  limits: HostLimits,
  preloads: readonly ResolvedPreload[] = [],
  guestOnnx = false,
) {
  const nn = new WasiNn(call, memory, limits.maxModelBytes, limits.maxInputBytes, preloads, guestOnnx);
  const guarded =
    <A extends number[]>(name: string, body: (...args: A) => void) =>
    (...args: A): number =>
      nnErrnoOf(name, complain, () => body(...args));
  const compute = guarded('compute', (ctx: number) => nn.compute(ctx));
  const getOutput = guarded('get_output', (ctx: number, i: number, buf: number, max: number, out: number) =>
    nn.getOutput(ctx, i, buf, max, out),
  );
  return {
    load: guarded('load', (b: number, n: number, e: number, t: number, out: number) =>
      nn.load(b, n, e, t, out),
    ),
    load_by_name: guarded('load_by_name', (namePtr: number, nameLen: number, graphOut: number) =>
      nn.loadByName(namePtr, nameLen, graphOut),
    ),
    load_by_name_with_config: guarded(
      'load_by_name_with_config',
      (namePtr: number, nameLen: number, configPtr: number, configLen: number, graphOut: number) => {
        memory().view(configPtr, configLen);
        nn.loadByName(namePtr, nameLen, graphOut);
      },
    ),
    init_execution_context: guarded('init_execution_context', (g: number, out: number) =>
      nn.initExecutionContext(g, out),
    ),
    set_input: guarded('set_input', (ctx: number, i: number, tensor: number) => nn.setInput(ctx, i, tensor)),
    compute,
    get_output: getOutput,
    // WasmEdge's streaming extensions (its GGML backend's); for a one-shot model a "single"
    // step is the whole computation, so they do what compute and get_output do.
    compute_single: compute,
    get_output_single: getOutput,
    fini_single: guarded('fini_single', (ctx: number) => nn.finiSingle(ctx)),
    unload: guarded('unload', (g: number) => nn.unload(g)),
    finalize_execution_context: guarded('finalize_execution_context', (ctx: number) =>
      nn.finalizeExecutionContext(ctx),
    ),
  };
}
