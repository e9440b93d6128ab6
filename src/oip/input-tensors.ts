/**
 * A request's input tensors made into the engine's inputs, each checked before anything is
 * allocated for it: its size (shape x datatype) against the platform's body limit, then its
 * name, datatype and shape against the model's, then its data (binary bytes or JSON elements)
 * against its shape. A huge declared shape is refused from the numbers alone, before the model's
 * shape is even looked at.
 */
import { BATCH_LIMITS } from '../batch/settings.js';
import type { TensorData, TensorInfo } from '../engine/types.js';
import { BadRequestError, shown, TfliteFnError, TooLargeError } from '../errors.js';
import type { BodyLimit } from '../http/limits.js';
import { datatypeOf, PROTOCOL_DATATYPES, type ProtocolTensorData } from './datatypes.js';
import type { InferRequest, RequestInput } from './infer-request.js';
import { protocolShape } from './shapes.js';
import { tensorFromBytes, tensorFromJson } from './tensor-data.js';
import type { BatchDimension, ModelSignature } from './tensor-runner.js';

/**
 * The most items one request may hold: what one engine run takes, as for a batch the dynamic
 * batcher gathers (the byte limit bounds it further for large tensors).
 */
export const MAX_ITEMS = BATCH_LIMITS.maxBatchSize;

function bad(message: string): BadRequestError {
  return new BadRequestError('bad_tensor', message);
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Bytes the tensor declares, stopping at the limit (so no product ever overflows). */
function declaredBytes(input: RequestInput, limit: BodyLimit): number {
  // BYTES has no fixed size: at least a byte each, which bounds the shape all the same.
  let bytes = PROTOCOL_DATATYPES[input.datatype] ?? 1;
  for (const dimension of input.shape) {
    bytes *= dimension;
    if (bytes > limit.maxBytes)
      throw new TooLargeError(
        'payload_too_large',
        `input '${shown(input.name)}' of shape ${shown(input.shape)} would be over ${limit.maxBytes} bytes; ${limit.description}`,
      );
  }
  return bytes;
}

/** A dimension the model leaves open (-1, as the protocol writes it) takes any size from 1. */
function fitsShape(given: readonly number[], wanted: readonly number[]): boolean {
  return (
    given.length === wanted.length &&
    wanted.every((size, i) => (size < 0 ? (given[i] as number) >= 1 : given[i] === size))
  );
}

/**
 * The model's tensor this input is for, with the datatype and shape it must have; the items
 * it holds (its first dimension where the model's batch dimension is open, else 1).
 */
function checkAgainstModel(input: RequestInput, info: TensorInfo, batch: BatchDimension): number {
  const wanted = datatypeOf(info.dtype);
  if (input.datatype === 'BYTES')
    throw bad(
      `input '${info.name}' data-type is 'BYTES', but the model expects '${wanted}': no model here takes strings (BYTES); send its ${wanted} elements`,
    );
  // Triton's check and words: the tensor must be of the model input's own datatype.
  if (input.datatype !== wanted)
    throw bad(`input '${info.name}' data-type is '${input.datatype}', but the model expects '${wanted}'`);
  const shape = protocolShape(info.shape, batch);
  if (fitsShape(input.shape, shape)) return batch.open ? (input.shape[0] as number) : 1;
  if (!batch.open && fitsShape([1, ...input.shape.slice(1)], shape))
    throw bad(
      `input '${info.name}' has shape ${shapeText(shape)}: this model takes one item per request, because ${batch.reason}; the request sends ${input.shape[0]} items`,
    );
  throw bad(`input '${info.name}' has shape ${shapeText(shape)}; the request sends ${shown(input.shape)}`);
}

/** Every input holds the same number of items, at most what one engine run takes. */
function checkItems(counts: ReadonlyMap<string, number>): number {
  const items = Math.max(1, ...counts.values());
  if (new Set(counts.values()).size > 1)
    throw bad(
      `the inputs hold different numbers of items (${[...counts].map(([name, n]) => `'${name}' ${n}`).join(', ')}); the first dimension is the batch`,
    );
  if (items > MAX_ITEMS)
    throw new TooLargeError(
      'payload_too_large',
      `the request holds ${items} items; one run takes at most ${MAX_ITEMS} (send them in several requests)`,
    );
  return items;
}

/**
 * A decoded tensor as the engine takes it. Its datatype was checked to be the model's, and a
 * model's datatypes are its engine's (UINT8, INT32, FP32), so this holds; if an engine ever
 * reports another type, the request is refused rather than handed a wrong array.
 */
function engineTensor(name: string, data: ProtocolTensorData): TensorData {
  if (data instanceof Uint8Array || data instanceof Int32Array || data instanceof Float32Array) return data;
  throw new TfliteFnError(500, 'engine_error', `input '${name}' is of a type no engine here runs`);
}

/** The engine's inputs for the request's items. */
export interface CheckedInputs {
  /** In the model's order; with several items, each tensor holds them one after another. */
  readonly tensors: TensorData[];
  /** The items the request holds (its batch): 1 unless the model's batch dimension is open. */
  readonly items: number;
}

/** The engine's inputs, in the model's order, from the request's (every input given once). */
export function inputTensors(
  request: InferRequest,
  model: Pick<ModelSignature, 'inputs' | 'batch'>,
  limit: BodyLimit,
): CheckedInputs {
  const modelInputs = model.inputs;
  const byName = new Map<string, TensorData>();
  const counts = new Map<string, number>();
  // Shapes and item counts first: a request of too many items is refused before any data is read.
  for (const input of request.inputs) {
    declaredBytes(input, limit);
    const info = modelInputs.find((candidate) => candidate.name === input.name);
    if (!info)
      throw bad(
        `the model has no input '${shown(input.name)}'; its inputs: ${modelInputs.map((i) => i.name).join(', ')}`,
      );
    if (counts.has(info.name)) throw bad(`input '${info.name}' is given twice`);
    counts.set(info.name, checkAgainstModel(input, info, model.batch));
  }
  const items = checkItems(counts);
  let offset = 0;
  for (const input of request.inputs) {
    const bytes = declaredBytes(input, limit);
    const info = modelInputs.find((candidate) => candidate.name === input.name) as TensorInfo;
    const declared = { name: info.name, datatype: datatypeOf(info.dtype), shape: input.shape };
    if (input.binaryDataSize === undefined) {
      byName.set(info.name, engineTensor(info.name, tensorFromJson(declared, input.data)));
      continue;
    }
    if (input.binaryDataSize !== bytes)
      throw bad(
        `input '${info.name}': binary_data_size is ${input.binaryDataSize}; shape ${shapeText(input.shape)} of ${input.datatype} is ${bytes} bytes`,
      );
    if (offset + bytes > request.binary.length)
      throw bad(
        `input '${info.name}': the binary data ends ${offset + bytes - request.binary.length} bytes short`,
      );
    const slice = request.binary.subarray(offset, offset + bytes);
    byName.set(info.name, engineTensor(info.name, tensorFromBytes(declared, slice)));
    offset += bytes;
  }
  if (offset !== request.binary.length)
    throw bad(
      `${request.binary.length - offset} bytes of binary data follow the JSON object that no input claims`,
    );
  const missing = modelInputs.filter((info) => !byName.has(info.name)).map((info) => info.name);
  if (missing.length > 0)
    throw bad(`the request lacks the model's input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return { tensors: modelInputs.map((info) => byName.get(info.name) as TensorData), items };
}
