/**
 * Checks that a model's numbers hold together before anything allocates or loops by them.
 * Failures are reported like reads past the end of the file: as a corrupt model.
 */
import { OutOfBoundsError } from './flatbuffer.js';
import {
  type Buffer,
  BuiltinOperator,
  builtinOperatorName,
  type Model,
  type SubGraph,
  TENSOR_TYPE_BYTES,
  type Tensor,
} from './schema.js';

/**
 * Bounds on shapes. TFLite kernels take at most 6 dimensions; 2^28 elements (1 GiB of float32)
 * is far above any tensor of a vision model (a 4096x4096 RGB input is 2^25.6), and 2 GiB for
 * all tensors together is half of what a wasm32 LiteRT instance can address at all.
 */
export const SHAPE_LIMITS = { rank: 8, dimension: 1 << 24, elements: 1 << 28, totalBytes: 2 ** 31 } as const;

/**
 * Operators whose output has their first input's shape: a lowering sizes constants it folds
 * (a DEQUANTIZE of float16 weights) from the input, and the next operator reads them with the
 * output's shape, so the two must agree.
 */
const SHAPE_PRESERVING = new Set<number>([
  BuiltinOperator.DEQUANTIZE,
  BuiltinOperator.QUANTIZE,
  BuiltinOperator.RELU,
  BuiltinOperator.RELU6,
  BuiltinOperator.SOFTMAX,
]);

/** The reason a model is refused: reported like a read past the end, as a corrupt model. */
class InvalidModelError extends OutOfBoundsError {}

function checkShape(shape: readonly number[], what: string): number {
  if (shape.length > SHAPE_LIMITS.rank)
    throw new InvalidModelError(
      `${what} has ${shape.length} dimensions; at most ${SHAPE_LIMITS.rank} are allowed`,
    );
  let elements = 1;
  for (const dimension of shape) {
    // -1 marks a dimension only known at run time (as in shape_signature).
    if (dimension < -1 || dimension > SHAPE_LIMITS.dimension)
      throw new InvalidModelError(`${what} has a dimension of ${dimension}`);
    elements *= Math.max(dimension, 1);
    if (elements > SHAPE_LIMITS.elements)
      throw new InvalidModelError(
        `${what} has more than ${SHAPE_LIMITS.elements} elements ([${shape.join(', ')}])`,
      );
  }
  return elements;
}

function checkIndex(index: number, count: number, what: string, optional = false): void {
  if (optional && index === -1) return;
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new InvalidModelError(`${what} names tensor ${index}, but the subgraph has ${count}`);
}

/** Tensors: bounded shapes, existing buffers, and a buffer's size matching its tensor's shape. */
function checkTensors(tensors: readonly Tensor[], buffers: readonly Buffer[], where: string): number[][] {
  let totalBytes = 0;
  return tensors.map((tensor, index) => {
    const what = `${where} tensor ${index}`;
    const shape = tensor.shape;
    const elements = checkShape(shape, what);
    const size = TENSOR_TYPE_BYTES[tensor.type];
    totalBytes += elements * (size ?? 1);
    if (totalBytes > SHAPE_LIMITS.totalBytes)
      throw new InvalidModelError(`the tensors of ${where} need more than ${SHAPE_LIMITS.totalBytes} bytes`);
    const bufferIndex = tensor.buffer;
    // Buffer 0 is the empty sentinel every tensor without data names, even when absent.
    if (bufferIndex === 0) return shape;
    const buffer = buffers[bufferIndex];
    if (!buffer)
      throw new InvalidModelError(`${what} names buffer ${bufferIndex}, but the model has ${buffers.length}`);
    const bytes = buffer.data.length;
    if (bytes === 0 || size === undefined || tensor.isSparse || shape.includes(-1)) return shape;
    const needed = shape.reduce((a, b) => a * b, 1) * size;
    if (bytes !== needed) {
      throw new InvalidModelError(
        `${what} has shape [${shape.join(', ')}] (${needed} bytes), but its buffer holds ${bytes}`,
      );
    }
    return shape;
  });
}

/** Operators: an existing operator code, inputs and outputs that name existing tensors. */
function checkOperators(model: Model, subgraph: SubGraph, shapes: readonly number[][], where: string): void {
  const codes = model.operatorCodes;
  const count = shapes.length;
  subgraph.operators.forEach((operator, index) => {
    const what = `${where} operator ${index}`;
    const code = codes[operator.opcodeIndex];
    if (!code)
      throw new InvalidModelError(`${what} names operator code ${operator.opcodeIndex}, of ${codes.length}`);
    const inputs = operator.inputs;
    const outputs = operator.outputs;
    for (const input of inputs) checkIndex(input, count, `${what} (input)`, true);
    for (const output of outputs) checkIndex(output, count, `${what} (output)`);
    const builtin = code.builtinCode;
    if (
      SHAPE_PRESERVING.has(builtin) &&
      inputs[0] !== undefined &&
      inputs[0] >= 0 &&
      outputs[0] !== undefined
    ) {
      const from = shapes[inputs[0]] as number[];
      const to = shapes[outputs[0]] as number[];
      if (!from.includes(-1) && !to.includes(-1) && from.join(',') !== to.join(',')) {
        throw new InvalidModelError(
          `${what} (${builtinOperatorName(builtin)}) turns shape [${from.join(', ')}] into [${to.join(', ')}]`,
        );
      }
    }
  });
}

/**
 * Checks, before anything allocates or loops by a model's numbers, that those numbers hold
 * together: every shape is within SHAPE_LIMITS, every buffer holds what its tensor's shape
 * says, every index (operator code, tensor, buffer) names something that exists, and
 * shape-preserving operators preserve shapes. A model that fails is corrupt (or hostile).
 */
export function validateModel(model: Model): void {
  const buffers = model.buffers;
  model.subgraphs.forEach((subgraph, s) => {
    const where = `subgraph ${s}`;
    const shapes = checkTensors(subgraph.tensors, buffers, where);
    for (const index of subgraph.inputs) checkIndex(index, shapes.length, `${where} input`);
    for (const index of subgraph.outputs) checkIndex(index, shapes.length, `${where} output`);
    checkOperators(model, subgraph, shapes, where);
  });
}
