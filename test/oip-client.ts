/**
 * A small Open Inference Protocol client, written from the protocol's documents (KServe's
 * required API, Triton's binary tensor data and classification extensions), not from our
 * server's code: what a user's own client would send and how it would read the answer.
 */

export type Datatype = 'UINT8' | 'INT32' | 'FP32' | 'BYTES';
export type TensorValues = Uint8Array | Int32Array | Float32Array;

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
  /** Numbers for numeric tensors, strings for BYTES, whether sent as JSON or binary. */
  readonly values: (number | string)[];
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
        : { data: Array.from(input.values) }),
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
  const header = new TextEncoder().encode(JSON.stringify(json));
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

/** A binary output's values, read by its datatype. */
function decodeBinary(datatype: string, bytes: Uint8Array): (number | string)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: (number | string)[] = [];
  if (datatype === 'BYTES') {
    for (let at = 0; at < bytes.length; ) {
      const length = view.getUint32(at, true);
      values.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    return values;
  }
  const size = { UINT8: 1, INT32: 4, FP32: 4 }[datatype];
  if (!size) throw new Error(`client: no decoder for ${datatype}`);
  for (let at = 0; at < bytes.length; at += size) {
    values.push(
      datatype === 'UINT8'
        ? view.getUint8(at)
        : datatype === 'INT32'
          ? view.getInt32(at, true)
          : view.getFloat32(at, true),
    );
  }
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
    if (size === undefined) return { ...base, values: output.data as (number | string)[], binary: false };
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
