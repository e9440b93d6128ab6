/**
 * A request's input tensors made into the engine's inputs, each checked before anything is
 * allocated for it: its size (shape x datatype) against the platform's body limit, then its
 * name, datatype and shape against the model's, then its data (binary bytes or JSON elements)
 * against its shape. A huge declared shape is refused from the numbers alone, before the model's
 * shape is even looked at.
 */
import { BATCH_LIMITS } from '../batch/settings.js';
import type { TensorData, TensorDType, TensorInfo } from '../engine/types.js';
import { BadRequestError, shown, TooLargeError } from '../errors.js';
import type { BodyLimit } from '../http/limits.js';
import { allocate, datatypeOf, fromLittleEndian, PROTOCOL_DATATYPES } from './datatypes.js';
import type { InferRequest, RequestInput } from './infer-request.js';
import { protocolShape } from './shapes.js';
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
  if (input.datatype !== wanted)
    throw bad(`input '${info.name}' is ${wanted}; the request sends ${input.datatype}`);
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

const RANGES: Record<TensorDType, readonly [number, number] | undefined> = {
  uint8: [0, 255],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  float32: undefined,
};

/**
 * JSON data, flat or nested in the shape's own form, written into a new tensor. Stops at the
 * first element past the count (a longer array is not walked to its end).
 */
function fromJson(info: TensorInfo, shape: readonly number[], data: unknown): TensorData {
  const count = shape.reduce((a, b) => a * b, 1);
  const tensor = allocate(info.dtype, count);
  const range = RANGES[info.dtype];
  let at = 0;
  const visit = (value: unknown, depth: number): void => {
    if (Array.isArray(value)) {
      if (depth >= Math.max(shape.length, 1))
        throw bad(`input '${info.name}': data is nested deeper than its shape`);
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (at >= count) throw bad(`input '${info.name}': data has more than the ${count} elements of its shape`);
    const number = typeof value === 'boolean' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number))
      throw bad(`input '${info.name}': element ${at} is ${shown(value)}, not a finite number`);
    if (range && (!Number.isInteger(number) || number < range[0] || number > range[1]))
      throw bad(`input '${info.name}': element ${at} is ${shown(value)}, not a ${datatypeOf(info.dtype)}`);
    tensor[at++] = number;
  };
  visit(data, 0);
  if (at !== count) throw bad(`input '${info.name}': data has ${at} elements; its shape holds ${count}`);
  return tensor;
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
    if (input.binaryDataSize === undefined) {
      byName.set(info.name, fromJson(info, input.shape, input.data));
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
    byName.set(info.name, fromLittleEndian(info.dtype, request.binary.subarray(offset, offset + bytes)));
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
