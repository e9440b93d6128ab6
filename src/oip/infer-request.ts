/**
 * An inference request as the protocol sends it: the JSON object alone, or (the binary tensor
 * data extension) the JSON object followed by the tensors' raw bytes, its length given by the
 * Inference-Header-Content-Length header. Here the body is read within the platform's limit,
 * split, parsed and checked for form; what the model needs is checked in input-tensors.ts.
 */
import { BadRequestError, shown, TfliteFnError, TooLargeError } from '../errors.js';
import type { BodyLimit } from '../http/limits.js';
import { declaredLength, readBodyCapped } from '../http/read-request.js';
import { isProtocolDatatype, type ProtocolDatatype } from './datatypes.js';

/**
 * The most JSON an inference request may hold. JSON.parse runs on the main thread, in time
 * proportional to its input (~10 ms per MB): 8 MB is a [1,224,224,3] FP32 tensor written out
 * in full digits with room to spare. Larger tensors belong in the binary extension, which
 * costs no parsing at all.
 */
export const JSON_HEADER_MAX_BYTES = 8 * 1024 * 1024;

export const HEADER_LENGTH = 'inference-header-content-length';

export type Parameters = Readonly<Record<string, unknown>>;

export interface RequestInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: ProtocolDatatype;
  readonly parameters: Parameters;
  /** JSON data (flat or nested), absent when the tensor comes as binary data. */
  readonly data?: unknown;
  /** Set when the tensor's bytes follow the JSON object (binary extension). */
  readonly binaryDataSize?: number;
}

export interface RequestOutput {
  readonly name: string;
  readonly parameters: Parameters;
}

export interface InferRequest {
  readonly id?: string;
  readonly parameters: Parameters;
  readonly inputs: readonly RequestInput[];
  /** Absent: every output of the model. */
  readonly outputs?: readonly RequestOutput[];
  /** The bytes after the JSON object: the binary inputs, in the order of `inputs`. */
  readonly binary: Uint8Array;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function bad(message: string): BadRequestError {
  return new BadRequestError('bad_inference_request', message);
}

function parameters(value: unknown, where: string): Parameters {
  if (value === undefined) return {};
  if (!isObject(value)) throw bad(`${where}.parameters must be an object`);
  return value;
}

/** A non-negative integer a tensor size can be computed from exactly. */
function isDimension(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function requestInput(value: unknown, at: number): RequestInput {
  const where = `inputs[${at}]`;
  if (!isObject(value)) throw bad(`${where} must be an object`);
  const { name, shape, datatype, data } = value;
  if (typeof name !== 'string' || name === '') throw bad(`${where}.name must be a non-empty string`);
  if (!Array.isArray(shape) || !shape.every(isDimension))
    throw bad(`${where} '${shown(name)}': shape must be an array of non-negative integers`);
  if (!isProtocolDatatype(datatype))
    throw bad(`${where} '${shown(name)}': datatype ${shown(datatype)} is not one of the protocol's`);
  const params = parameters(value.parameters, where);
  const size = params.binary_data_size;
  if (size !== undefined && !isDimension(size))
    throw bad(`${where} '${shown(name)}': binary_data_size must be a non-negative integer`);
  if ((size === undefined) === (data === undefined))
    throw bad(
      `${where} '${shown(name)}': give either "data" or the binary_data_size parameter, not both or neither`,
    );
  return {
    name,
    shape,
    datatype,
    parameters: params,
    ...(data === undefined ? {} : { data }),
    ...(size === undefined ? {} : { binaryDataSize: size }),
  };
}

function requestOutput(value: unknown, at: number): RequestOutput {
  const where = `outputs[${at}]`;
  if (!isObject(value) || typeof value.name !== 'string')
    throw bad(`${where} must be an object with a "name"`);
  return { name: value.name, parameters: parameters(value.parameters, where) };
}

/** The JSON object's form, checked field by field (the protocol's $inference_request). */
export function inferRequestOf(value: unknown, binary: Uint8Array): InferRequest {
  if (!isObject(value)) throw bad('the body must be a JSON object with "inputs"');
  const { id, inputs, outputs } = value;
  if (id !== undefined && typeof id !== 'string') throw bad('"id" must be a string');
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad('"inputs" must be a non-empty array');
  if (outputs !== undefined && !Array.isArray(outputs)) throw bad('"outputs" must be an array');
  return {
    ...(id === undefined ? {} : { id }),
    parameters: parameters(value.parameters, 'the request'),
    inputs: inputs.map(requestInput),
    ...(outputs === undefined ? {} : { outputs: outputs.map(requestOutput) }),
    binary,
  };
}

/** The JSON object's length from Inference-Header-Content-Length, checked against the body. */
function headerLength(header: string | null, bodyBytes: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (!/^\d{1,15}$/.test(text))
    throw new BadRequestError(
      'bad_header_length',
      `Inference-Header-Content-Length must be a byte count; got '${shown(header)}'`,
    );
  const length = Number(text);
  if (length === 0 || length > bodyBytes)
    throw new BadRequestError(
      'bad_header_length',
      `Inference-Header-Content-Length is ${length}, but the body has ${bodyBytes} bytes`,
    );
  return length;
}

function jsonTooLarge(bytes: number): TooLargeError {
  return new TooLargeError(
    'payload_too_large',
    `the JSON part of the request is ${bytes} bytes; at most ${JSON_HEADER_MAX_BYTES} are parsed: send large tensors as binary data (Inference-Header-Content-Length, binary_data_size)`,
  );
}

const ACCEPTED_TYPES = new Set(['', 'application/json', 'application/octet-stream']);

export async function readInferRequest(request: Request, limit: BodyLimit): Promise<InferRequest> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ACCEPTED_TYPES.has(type))
    throw new TfliteFnError(
      415,
      'unsupported_media_type',
      `content type ${shown(type)} is not accepted; send application/json, or application/octet-stream with Inference-Header-Content-Length`,
    );
  const declaredHeader = request.headers.get(HEADER_LENGTH);
  // All JSON, and more than is parsed: refused before a byte is read.
  const declared = declaredLength(request);
  if (declaredHeader === null && declared !== undefined && declared > JSON_HEADER_MAX_BYTES)
    throw jsonTooLarge(declared);
  const body = await readBodyCapped(request, limit);
  const length = headerLength(declaredHeader, body.length) ?? body.length;
  if (length > JSON_HEADER_MAX_BYTES) throw jsonTooLarge(length);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, length)));
  } catch {
    throw new BadRequestError('bad_json', 'the inference request is not valid JSON (UTF-8)');
  }
  return inferRequestOf(value, body.subarray(length));
}
