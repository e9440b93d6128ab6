/**
 * TensorFlow Lite model in, ONNX model out, for onnxruntime-node.
 *
 * The ONNX graph's inputs and outputs keep the TFLite tensors' names, element types and NHWC
 * shapes, so a caller feeds it exactly the bytes it feeds LiteRT and reads the outputs the same
 * way. Every TFLite operator is lowered by one function in ./ops; an operator or option with no
 * exact lowering is a ModelLoadError that names it, and the model stays on LiteRT.
 *
 * Batch. Where it can, the graph leaves the leading dimension of its inputs and outputs open
 * (BATCH_DIMENSION): TFLite's batch of one becomes any N, so a server runs N requests in one
 * call (src/batch). A model whose graph works across that dimension is converted again with
 * it fixed at 1, and the result says why (`batch`). The reported TensorInfo shapes stay those
 * of one item.
 */
import type { TensorDType, TensorInfo } from '../engine/types.js';
import { ModelLoadError } from '../errors.js';
import { readTfliteModel, withModelErrors } from '../tflite/read.js';
import { BuiltinOperator, builtinOperatorName, TensorType, tensorTypeName } from '../tflite/schema.js';
import { encodeOnnxModel, type OnnxDataType, type OnnxValueInfo } from './onnx-writer.js';
import {
  BATCH_DIMENSION,
  LoweringContext,
  NotBatchableError,
  type OperatorView,
  onnxType,
} from './ops/context.js';
import { LOWERINGS } from './ops/index.js';

import { CONVERTER_VERSION } from './version.js';

export { CONVERTER_VERSION };

/** The ONNX default-domain opset the graph is written against, and the IR version it needs. */
const OPSET = 13;
const IR_VERSION = 8;

export interface ConversionResult {
  /** The ONNX model (a serialized ModelProto). */
  readonly onnx: Uint8Array;
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  /** The TFLite operators the model uses, in order of first use. */
  readonly ops: string[];
  /** Whether the graph's batch dimension is open, or why not (see the module comment). */
  readonly batch: BatchSupport;
}

export type BatchSupport = { readonly open: true } | { readonly open: false; readonly reason: string };

const EDGE_DTYPES: Readonly<Record<number, TensorDType>> = {
  [TensorType.UINT8]: 'uint8',
  [TensorType.INT32]: 'int32',
  [TensorType.FLOAT32]: 'float32',
};

/** Converts a .tflite model; `label` names it in error messages (a path or a model id). */
export function convertTfliteToOnnx(tflite: Uint8Array, label: string): ConversionResult {
  // A Node Buffer's slice() is a view, not a copy: read it as a plain Uint8Array throughout.
  const bytes = Buffer.isBuffer(tflite)
    ? new Uint8Array(tflite.buffer, tflite.byteOffset, tflite.byteLength)
    : tflite;
  const model = readTfliteModel(bytes, label);
  try {
    return withModelErrors(label, () => lower(model, label, true));
  } catch (error) {
    if (!(error instanceof NotBatchableError)) throw error;
    const unbatched = withModelErrors(label, () => lower(model, label, false));
    return { ...unbatched, batch: { open: false, reason: error.message } };
  }
}

function lower(model: ReturnType<typeof readTfliteModel>, label: string, batched: boolean): ConversionResult {
  const [subgraph] = model.subgraphs;
  if (!subgraph) throw new ModelLoadError(`cannot convert ${label} to ONNX: it has no subgraph`);
  const ctx = new LoweringContext(model, subgraph, label, batched);

  const edge = (index: number, role: string): TensorInfo & { onnx: OnnxValueInfo } => {
    const view = ctx.tensor(index);
    const dtype = EDGE_DTYPES[view.tfliteType];
    if (!dtype)
      throw ctx.error(
        `${role} '${view.name}' is ${tensorTypeName(view.tfliteType)}; only uint8, int32 and float32 are`,
      );
    if (view.shape.some((d) => d < 1)) throw ctx.error(`${role} '${view.name}' has no static shape`);
    if (batched && view.shape[0] !== 1)
      throw ctx.notBatchable(`${role} '${view.name}' of shape [${view.shape}] has no batch dimension`);
    const onnxShape = batched ? [BATCH_DIMENSION, ...view.shape.slice(1)] : view.shape;
    return {
      name: view.name,
      dtype,
      shape: [...view.shape],
      onnx: { name: view.name, dataType: onnxType(view.type) as OnnxDataType, shape: onnxShape },
    };
  };
  const inputs = subgraph.inputs.map((index) => edge(index, 'input'));
  const outputs = subgraph.outputs.map((index) => edge(index, 'output'));
  const names = [...inputs, ...outputs].map((info) => info.name);
  if (new Set(names).size !== names.length) throw ctx.error('two graph inputs or outputs share a name');
  for (const name of names) ctx.reserve(name);
  subgraph.inputs.forEach((index, i) => {
    ctx.bind(index, 'nhwc', (inputs[i] as TensorInfo).name);
  });

  const ops = lowerOperators(ctx, model, subgraph);

  subgraph.outputs.forEach((index, i) => {
    ctx.emit('Identity', [ctx.value(index, 'nhwc')], [(outputs[i] as TensorInfo).name]);
  });

  const used = new Set(ctx.nodes.flatMap((node) => node.inputs));
  const opsetImports = [{ domain: '', version: OPSET }];
  if (ctx.domains.has('com.microsoft')) opsetImports.push({ domain: 'com.microsoft', version: 1 });
  const onnx = encodeOnnxModel({
    irVersion: IR_VERSION,
    opsetImports,
    producerName: 'tflite-fn',
    producerVersion: String(CONVERTER_VERSION),
    docString: 'converted from TensorFlow Lite by tflite-fn',
    graph: {
      name: subgraph.name || 'main',
      nodes: ctx.nodes,
      // A lowering may fetch a constant it then folds away (a quantized op with a constant
      // operand that became a table): no node reads it, so the file need not hold it.
      initializers: ctx.initializers.filter((tensor) => used.has(tensor.name)),
      inputs: inputs.map((info) => info.onnx),
      outputs: outputs.map((info) => info.onnx),
    },
  });
  const strip = ({ name, dtype, shape }: TensorInfo): TensorInfo => ({ name, dtype, shape });
  const batch: BatchSupport = batched
    ? { open: true }
    : { open: false, reason: 'converted for a batch of one' };
  return { onnx, inputs: inputs.map(strip), outputs: outputs.map(strip), ops, batch };
}

/** Lowers each operator of the subgraph in order; returns the names of the ops it met. */
function lowerOperators(
  ctx: LoweringContext,
  model: ReturnType<typeof readTfliteModel>,
  subgraph: ReturnType<typeof readTfliteModel>['subgraphs'][number],
): string[] {
  const codes = model.operatorCodes;
  const ops: string[] = [];
  subgraph.operators.forEach((operator, index) => {
    const code = codes[operator.opcodeIndex];
    if (!code)
      throw ctx.error(`operator ${index} names operator code ${operator.opcodeIndex}, which does not exist`);
    const builtin = code.builtinCode;
    const name =
      builtin === BuiltinOperator.CUSTOM ? `CUSTOM '${code.customCode ?? ''}'` : builtinOperatorName(builtin);
    const view: OperatorView = {
      index,
      code: builtin,
      name,
      customCode: builtin === BuiltinOperator.CUSTOM ? (code.customCode ?? '') : undefined,
      version: code.version,
      inputs: operator.inputs,
      outputs: operator.outputs,
      operator,
    };
    ctx.current = view;
    const lowering = LOWERINGS.get(builtin);
    if (!lowering) {
      ctx.current = undefined;
      throw ctx.error(`unsupported TFLite op ${name} (operator ${index} of subgraph 0)`);
    }
    if (!ops.includes(name)) ops.push(name);
    lowering(ctx, view);
    ctx.current = undefined;
  });
  return ops;
}
