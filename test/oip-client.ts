/**
 * A small Open Inference Protocol client, written from the protocol's documents (KServe's
 * required API, Triton's binary tensor data and classification extensions), not from our
 * server's code: what a user's own client would send and how it would read the answer.
 */

/** The protocol's tensor data types (its "Tensor Data Types" table). */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/**
 * A tensor's elements in the typed array of its datatype: BOOL as 0/1 bytes, FP16 as its raw
 * bits (JavaScript has no half-precision array), INT64/UINT64 as bigints.
 */
export type TensorValues =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** Bytes per element of each fixed-size datatype (BYTES is variable). */
export const ELEMENT_BYTES: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

/** An IEEE half-precision value from its 16 bits. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A tensor's elements as JSON values: booleans for BOOL, numbers (bigints for 64-bit integers). */
function jsonElements(datatype: Datatype, values: TensorValues): unknown[] {
  if (datatype === 'BOOL') return Array.from(values as Uint8Array, (value) => value !== 0);
  if (datatype === 'FP16') return Array.from(values as Uint16Array, halfToNumber);
  return Array.from(values as ArrayLike<number | bigint>);
}

/**
 * JSON text where bigints are written as integers, digit for digit (JSON numbers have no size
 * limit; JSON.stringify refuses bigints).
 */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_, item) => (typeof item === 'bigint' ? `@bigint:${item}` : item)).replace(
    /"@bigint:(-?\d+)"/g,
    '$1',
  );
}

export interface ClientInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: Datatype;
  readonly values: TensorValues;
}

export interface ClientOutputRequest {
  readonly name: string;
  readonly binary?: boolean;
  readonly classification?: number;
}

export interface ClientOutput {
  readonly name: string;
  readonly shape: number[];
  readonly datatype: string;
  /**
   * Numbers for numeric tensors (bigints for binary INT64/UINT64, booleans for BOOL), strings
   * for BYTES, whether sent as JSON or binary.
   */
  readonly values: (number | bigint | boolean | string)[];
  readonly binary: boolean;
}

export interface ClientAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
  readonly outputs: ClientOutput[];
}

/** Little-endian bytes of a tensor (the binary extension's layout). */
function bytesOf(values: TensorValues): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The request body: JSON alone, or JSON then every input's bytes (binary extension). */
export function encodeInferRequest(
  inputs: readonly ClientInput[],
  outputs: readonly ClientOutputRequest[] | undefined,
  options: { binaryInputs: boolean; id?: string; parameters?: Record<string, unknown> },
): { body: Uint8Array; headers: Record<string, string> } {
  const json = {
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
    inputs: inputs.map((input) => ({
      name: input.name,
      shape: input.shape,
      datatype: input.datatype,
      ...(options.binaryInputs
        ? { parameters: { binary_data_size: input.values.byteLength } }
        : { data: jsonElements(input.datatype, input.values) }),
    })),
    ...(outputs
      ? {
          outputs: outputs.map((output) => {
            const parameters: Record<string, unknown> = {};
            if (output.binary !== undefined) parameters.binary_data = output.binary;
            if (output.classification !== undefined) parameters.classification = output.classification;
            return { name: output.name, ...(Object.keys(parameters).length > 0 ? { parameters } : {}) };
          }),
        }
      : {}),
  };
  const header = new TextEncoder().encode(stringify(json));
  if (!options.binaryInputs) return { body: header, headers: { 'content-type': 'application/json' } };
  const parts = [header, ...inputs.map((input) => bytesOf(input.values))];
  const body = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return {
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
  };
}

/** A binary output's values, read by its datatype (little-endian, as the extension says). */
function decodeBinary(datatype: string, bytes: Uint8Array): (number | bigint | boolean | string)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: (number | bigint | boolean | string)[] = [];
  if (datatype === 'BYTES') {
    for (let at = 0; at < bytes.length; ) {
      const length = view.getUint32(at, true);
      values.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    return values;
  }
  const read: Record<string, (at: number) => number | bigint | boolean> = {
    BOOL: (at) => view.getUint8(at) !== 0,
    UINT8: (at) => view.getUint8(at),
    UINT16: (at) => view.getUint16(at, true),
    UINT32: (at) => view.getUint32(at, true),
    UINT64: (at) => view.getBigUint64(at, true),
    INT8: (at) => view.getInt8(at),
    INT16: (at) => view.getInt16(at, true),
    INT32: (at) => view.getInt32(at, true),
    INT64: (at) => view.getBigInt64(at, true),
    FP16: (at) => halfToNumber(view.getUint16(at, true)),
    FP32: (at) => view.getFloat32(at, true),
    FP64: (at) => view.getFloat64(at, true),
  };
  const element = read[datatype];
  const size = ELEMENT_BYTES[datatype as keyof typeof ELEMENT_BYTES];
  if (!element || !size) throw new Error(`client: no decoder for ${datatype}`);
  for (let at = 0; at < bytes.length; at += size) values.push(element(at));
  return values;
}

/** Reads a response: its JSON object, and the binary outputs after it in their order. */
export async function decodeInferResponse(response: Response): Promise<ClientAnswer> {
  const body = new Uint8Array(await response.arrayBuffer());
  const headerLength = response.headers.get('inference-header-content-length');
  const jsonLength = headerLength === null ? body.length : Number(headerLength);
  const json = JSON.parse(new TextDecoder().decode(body.subarray(0, jsonLength))) as Record<string, unknown>;
  let at = jsonLength;
  const outputs = ((json.outputs ?? []) as Record<string, unknown>[]).map((output) => {
    const size = (output.parameters as { binary_data_size?: number } | undefined)?.binary_data_size;
    const base = {
      name: output.name as string,
      shape: output.shape as number[],
      datatype: output.datatype as string,
    };
    if (size === undefined) return { ...base, values: output.data as ClientOutput['values'], binary: false };
    const bytes = body.subarray(at, at + size);
    at += size;
    return { ...base, values: decodeBinary(base.datatype, bytes), binary: true };
  });
  return { status: response.status, headers: response.headers, json, outputs };
}

/** POST .../infer with these inputs; the answer read as the protocol says. */
export async function infer(
  base: string,
  model: string,
  inputs: readonly ClientInput[],
  options: {
    outputs?: readonly ClientOutputRequest[];
    binaryInputs?: boolean;
    id?: string;
    version?: string;
    /** The request's parameters (e.g. binary_data_output). */
    parameters?: Record<string, unknown>;
  } = {},
): Promise<ClientAnswer> {
  const { body, headers } = encodeInferRequest(inputs, options.outputs, {
    binaryInputs: options.binaryInputs ?? false,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
  });
  const version = options.version === undefined ? '' : `/versions/${options.version}`;
  const response = await fetch(`${base}/v2/models/${model}${version}/infer`, {
    method: 'POST',
    headers,
    body: body as Uint8Array<ArrayBuffer>,
  });
  return decodeInferResponse(response);
}
