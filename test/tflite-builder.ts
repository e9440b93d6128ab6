/**
 * TFLite models written in tests: small graphs of one or a few operators, built with the
 * flatbuffers Builder from the field ids of TFLite's schema.fbs, to run on both engines.
 */
import { Builder } from 'flatbuffers';

export const FLOAT32 = 0;
export const FLOAT16 = 1;
export const INT32 = 2;
export const UINT8 = 3;
export const INT8 = 9;

export interface TestTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** TFLite TensorType. */
  readonly type: number;
  readonly data?: Uint8Array;
  readonly quant?: { scale: readonly number[]; zeroPoint: readonly number[]; dimension?: number };
}

export interface TestOperator {
  /** BuiltinOperator code. */
  readonly code: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** BuiltinOptions union member and its scalar fields as [field id, value, size in bits]. */
  readonly options?: { type: number; ints: readonly (readonly [number, number, 8 | 32])[] };
  /** For code 32 (CUSTOM): the custom_code and the custom_options bytes. */
  readonly custom?: { readonly code: string; readonly options?: Uint8Array };
}

/**
 * A TFLite model written with the flatbuffers Builder, from the field ids of TFLite's
 * schema.fbs: one subgraph, one buffer per constant tensor (buffer 0 stays the empty one).
 */
export function buildTflite(spec: {
  tensors: readonly TestTensor[];
  operators: readonly TestOperator[];
  inputs: readonly number[];
  outputs: readonly number[];
}): Uint8Array {
  const builder = new Builder(4096);
  const vector = (size: 4 | 8, values: readonly number[], add: (value: number) => void) => {
    builder.startVector(size, values.length, size);
    for (const value of [...values].reverse()) add(value);
    return builder.endVector();
  };
  const int32s = (values: readonly number[]) => vector(4, values, (v) => builder.addInt32(v));
  const offsets = (values: readonly number[]) => vector(4, values, (v) => builder.addOffset(v));
  builder.startObject(1);
  const buffers = [builder.endObject()];
  const tensors = spec.tensors.map((tensor) => {
    let buffer = 0;
    if (tensor.data) {
      const data = builder.createByteVector(tensor.data);
      builder.startObject(1);
      builder.addFieldOffset(0, data, 0);
      buffer = buffers.push(builder.endObject()) - 1;
    }
    let quantization = 0;
    if (tensor.quant) {
      const scale = vector(4, tensor.quant.scale, (v) => builder.addFloat32(v));
      const zeroPoint = vector(8, tensor.quant.zeroPoint, (v) => builder.addInt64(BigInt(v)));
      builder.startObject(7);
      builder.addFieldOffset(2, scale, 0);
      builder.addFieldOffset(3, zeroPoint, 0);
      builder.addFieldInt32(6, tensor.quant.dimension ?? 0, 0);
      quantization = builder.endObject();
    }
    const name = builder.createString(tensor.name);
    const shape = int32s(tensor.shape);
    builder.startObject(5);
    builder.addFieldOffset(0, shape, 0);
    builder.addFieldInt8(1, tensor.type, null);
    builder.addFieldInt32(2, buffer, 0);
    builder.addFieldOffset(3, name, 0);
    if (quantization) builder.addFieldOffset(4, quantization, 0);
    return builder.endObject();
  });
  // One operator code per builtin, and per custom_code for custom operators.
  const codeKey = (op: TestOperator) => `${op.code}:${op.custom?.code ?? ''}`;
  const codeOperators = [...new Map(spec.operators.map((op) => [codeKey(op), op])).values()];
  const codeKeys = codeOperators.map(codeKey);
  const operators = spec.operators.map((op) => {
    const customOptions = op.custom?.options ? builder.createByteVector(op.custom.options) : 0;
    let options = 0;
    if (op.options) {
      builder.startObject(8);
      for (const [id, value, bits] of op.options.ints) {
        if (bits === 8) builder.addFieldInt8(id, value, null);
        else builder.addFieldInt32(id, value, null);
      }
      options = builder.endObject();
    }
    const inputs = int32s(op.inputs);
    const outputs = int32s(op.outputs);
    builder.startObject(6);
    builder.addFieldInt32(0, codeKeys.indexOf(codeKey(op)), null);
    builder.addFieldOffset(1, inputs, 0);
    builder.addFieldOffset(2, outputs, 0);
    if (op.options) {
      builder.addFieldInt8(3, op.options.type, null);
      builder.addFieldOffset(4, options, 0);
    }
    if (customOptions) builder.addFieldOffset(5, customOptions, 0);
    return builder.endObject();
  });
  const tensorVector = offsets(tensors);
  const graphInputs = int32s(spec.inputs);
  const graphOutputs = int32s(spec.outputs);
  const operatorVector = offsets(operators);
  builder.startObject(4);
  builder.addFieldOffset(0, tensorVector, 0);
  builder.addFieldOffset(1, graphInputs, 0);
  builder.addFieldOffset(2, graphOutputs, 0);
  builder.addFieldOffset(3, operatorVector, 0);
  const subgraphs = offsets([builder.endObject()]);
  const codeTables = codeOperators.map(({ code, custom }) => {
    const customCode = custom ? builder.createString(custom.code) : 0;
    builder.startObject(4);
    builder.addFieldInt8(0, Math.min(code, 127), null); // deprecated_builtin_code
    if (customCode) builder.addFieldOffset(1, customCode, 0);
    builder.addFieldInt32(2, 1, null); // version
    builder.addFieldInt32(3, code, null); // builtin_code
    return builder.endObject();
  });
  const codeVector = offsets(codeTables);
  const bufferVector = offsets(buffers);
  builder.startObject(5);
  builder.addFieldInt32(0, 3, null); // schema version
  builder.addFieldOffset(1, codeVector, 0);
  builder.addFieldOffset(2, subgraphs, 0);
  builder.addFieldOffset(4, bufferVector, 0);
  builder.finish(builder.endObject(), 'TFL3');
  return builder.asUint8Array();
}
