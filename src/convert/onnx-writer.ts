/**
 * Writes an ONNX model: the protobuf encoding of the ModelProto subset the converter emits.
 *
 * Hand-written because the subset is small (eight messages, a handful of fields each) and a
 * protobuf library would add a schema compiler or a runtime reflection layer for it. Field
 * numbers and enum values are facts from onnx.proto. Repeated scalars that onnx.proto does not
 * mark `packed` are written unpacked, as protobuf 2 itself writes them; every tensor payload
 * goes in `raw_data` (little-endian bytes), so no packed numeric fields are needed at all.
 */

/** TensorProto.DataType values. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  UINT32: 12,
} as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

export interface OnnxTensor {
  readonly name: string;
  readonly dataType: OnnxDataType;
  readonly dims: readonly number[];
  /** Elements in row-major order as little-endian bytes. */
  readonly raw: Uint8Array;
}

export type OnnxAttributeValue =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string };

export interface OnnxNode {
  readonly opType: string;
  /** '' (or absent) for the default ONNX domain, e.g. 'com.microsoft' for ORT contrib ops. */
  readonly domain?: string;
  readonly name?: string;
  /** '' marks an optional input that is left out. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, OnnxAttributeValue>>;
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly dataType: OnnxDataType;
  /** A number is a fixed size; a string names a dimension left open (the batch). */
  readonly shape: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly graph: OnnxGraph;
}

export const attr = {
  int: (value: number): OnnxAttributeValue => ({ type: 'int', value }),
  ints: (value: readonly number[]): OnnxAttributeValue => ({ type: 'ints', value }),
  float: (value: number): OnnxAttributeValue => ({ type: 'float', value }),
  string: (value: string): OnnxAttributeValue => ({ type: 'string', value }),
};

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

/** Accumulates one message's bytes; nested messages are encoded first and added as bytes. */
class ProtoWriter {
  readonly #chunks: Uint8Array[] = [];
  #scratch: number[] = [];
  #length = 0;

  #flush(): void {
    if (this.#scratch.length === 0) return;
    const chunk = Uint8Array.from(this.#scratch);
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#scratch = [];
  }

  #varint(value: bigint | number): void {
    // Negative int64 values are written as their 64-bit two's complement (ten bytes).
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      this.#scratch.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.#scratch.push(Number(rest));
  }

  #key(field: number, wireType: number): void {
    this.#varint((field << 3) | wireType);
  }

  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
    this.#key(field, VARINT);
    this.#varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#scratch.push(...bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#key(field, LENGTH_DELIMITED);
    this.#varint(value.length);
    this.#flush();
    this.#chunks.push(value);
    this.#length += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** TensorProto { dims 1, data_type 2, name 8, raw_data 9 } */
function tensorProto(tensor: OnnxTensor): ProtoWriter {
  const out = new ProtoWriter();
  for (const dim of tensor.dims) out.int(1, dim);
  out.int(2, tensor.dataType).string(8, tensor.name).bytes(9, tensor.raw);
  return out;
}

/** AttributeProto { name 1, f 2, i 3, s 4, ints 8, type 20 } */
function attributeProto(name: string, attribute: OnnxAttributeValue): ProtoWriter {
  const out = new ProtoWriter().string(1, name);
  switch (attribute.type) {
    case 'float':
      out.float(2, attribute.value);
      break;
    case 'int':
      out.int(3, attribute.value);
      break;
    case 'string':
      out.string(4, attribute.value);
      break;
    case 'ints':
      for (const value of attribute.value) out.int(8, value);
      break;
  }
  return out.int(20, ATTRIBUTE_TYPE[attribute.type]);
}

/** NodeProto { input 1, output 2, name 3, op_type 4, attribute 5, domain 7 } */
function nodeProto(node: OnnxNode): ProtoWriter {
  const out = new ProtoWriter();
  for (const input of node.inputs) out.string(1, input);
  for (const output of node.outputs) out.string(2, output);
  if (node.name) out.string(3, node.name);
  out.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {}))
    out.message(5, attributeProto(name, value));
  if (node.domain) out.string(7, node.domain);
  return out;
}

/**
 * ValueInfoProto { name 1, type 2 } with TypeProto { tensor_type 1 },
 * TypeProto.Tensor { elem_type 1, shape 2 }, TensorShapeProto { dim 1 } and
 * TensorShapeProto.Dimension { dim_value 1, dim_param 2 }.
 */
function valueInfoProto(value: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of value.shape) {
    const dimension =
      typeof dim === 'number' ? new ProtoWriter().int(1, dim) : new ProtoWriter().string(2, dim);
    shape.message(1, dimension);
  }
  const tensorType = new ProtoWriter().int(1, value.dataType).message(2, shape);
  return new ProtoWriter().string(1, value.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** GraphProto { node 1, name 2, initializer 5, input 11, output 12 } */
function graphProto(graph: OnnxGraph): ProtoWriter {
  const out = new ProtoWriter();
  for (const node of graph.nodes) out.message(1, nodeProto(node));
  out.string(2, graph.name);
  for (const tensor of graph.initializers) out.message(5, tensorProto(tensor));
  for (const input of graph.inputs) out.message(11, valueInfoProto(input));
  for (const output of graph.outputs) out.message(12, valueInfoProto(output));
  return out;
}

/**
 * ModelProto { ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7,
 * opset_import 8 } with OperatorSetIdProto { domain 1, version 2 }.
 */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const out = new ProtoWriter()
    .int(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion);
  if (model.docString) out.string(6, model.docString);
  out.message(7, graphProto(model.graph));
  for (const opset of model.opsetImports) {
    out.message(8, new ProtoWriter().string(1, opset.domain).int(2, opset.version));
  }
  return out.finish();
}
