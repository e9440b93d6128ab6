/**
 * The answer to an inference request: the outputs asked for (or all), each as JSON data or,
 * when asked (`binary_data` on the output, `binary_data_output` on the request), as raw bytes
 * after the JSON object; an output with the `classification: K` parameter becomes the K best
 * classes as BYTES strings "value:index[:label]" (the classification extension).
 */
import type { TensorData, TensorInfo } from '../engine/types.js';
import { BadRequestError, shown, TfliteFnError } from '../errors.js';
import type { BodyLimit } from '../http/limits.js';
import { datatypeOf, elementBytes, jsonElements, toLittleEndian } from './datatypes.js';
import { HEADER_LENGTH, type InferRequest, type Parameters } from './infer-request.js';
import { shapeOfItems } from './shapes.js';
import type { BatchDimension } from './tensor-runner.js';

export interface OutputPlan {
  /** Index in the model's outputs. */
  readonly index: number;
  readonly info: TensorInfo;
  readonly binary: boolean;
  /** The K of `classification: K`. */
  readonly classification?: number;
}

function bad(message: string): BadRequestError {
  return new BadRequestError('bad_inference_request', message);
}

function flag(parameters: Parameters, name: string, fallback: boolean): boolean {
  const value = parameters[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw bad(`the ${name} parameter must be true or false`);
  return value;
}

/** The outputs to return, as the request names them (every output of the model if it names none). */
export function planOutputs(request: InferRequest, modelOutputs: readonly TensorInfo[]): OutputPlan[] {
  const binaryDefault = flag(request.parameters, 'binary_data_output', false);
  if (!request.outputs) return modelOutputs.map((info, index) => ({ index, info, binary: binaryDefault }));
  const seen = new Set<string>();
  return request.outputs.map((output) => {
    const index = modelOutputs.findIndex((info) => info.name === output.name);
    if (index < 0)
      throw bad(
        `the model has no output '${shown(output.name)}'; its outputs: ${modelOutputs.map((o) => o.name).join(', ')}`,
      );
    if (seen.has(output.name)) throw bad(`output '${output.name}' is asked for twice`);
    seen.add(output.name);
    const count = output.parameters.classification;
    if (count !== undefined && !(Number.isSafeInteger(count) && (count as number) > 0))
      throw bad(`output '${output.name}': classification must be a positive integer; got ${shown(count)}`);
    return {
      index,
      info: modelOutputs[index] as TensorInfo,
      binary: flag(output.parameters, 'binary_data', binaryDefault),
      ...(count === undefined ? {} : { classification: count as number }),
    };
  });
}

/**
 * A response tensor: its JSON description; its data as JSON text (written element by element,
 * so 64-bit integers keep every digit) or its bytes when it travels as binary data.
 */
interface ResponseTensor {
  readonly json: Record<string, unknown>;
  readonly data?: string;
  readonly bytes?: Uint8Array;
}

/**
 * A float32 value as the shortest decimal that reads back as the same float32 ("3.3", not
 * "3.299999952316284", the float64 spelling of the same bits); other values as they are.
 */
function elementText(data: TensorData, value: number): string {
  if (!(data instanceof Float32Array) || !Number.isFinite(value)) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = Number(value.toPrecision(digits));
    if (Math.fround(text) === value) return String(text);
  }
  return String(Number(value.toPrecision(9)));
}

/**
 * The K highest elements of each row (the last dimension), best first, ties to the lower
 * index, as "value:index[:label]". The shape keeps the leading dimensions: [1, 1001] → [1, K].
 */
function classifications(
  data: TensorData,
  shape: readonly number[],
  k: number,
  labelOf: (index: number) => string | undefined,
): { shape: number[]; strings: string[] } {
  const width = shape[shape.length - 1] ?? data.length;
  const count = Math.min(k, width);
  const strings: string[] = [];
  for (let row = 0; row * width < data.length; row++) {
    const start = row * width;
    const order = Array.from({ length: width }, (_, i) => i);
    order.sort((a, b) => (data[start + b] as number) - (data[start + a] as number) || a - b);
    for (const index of order.slice(0, count)) {
      const label = labelOf(index);
      const value = elementText(data, data[start + index] as number);
      strings.push(`${value}:${index}${label === undefined ? '' : `:${label}`}`);
    }
  }
  return { shape: shape.length > 0 ? [...shape.slice(0, -1), count] : [count], strings };
}

/** BYTES elements in the binary extension's form: each a 4-byte little-endian length, then its bytes. */
function bytesElements(strings: readonly string[]): Uint8Array {
  const encoded = strings.map((text) => new TextEncoder().encode(text));
  const out = new Uint8Array(encoded.reduce((sum, bytes) => sum + 4 + bytes.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const bytes of encoded) {
    view.setUint32(at, bytes.length, true);
    out.set(bytes, at + 4);
    at += 4 + bytes.length;
  }
  return out;
}

function responseTensor(
  plan: OutputPlan,
  data: TensorData,
  context: Pick<ResponseContext, 'labelOf' | 'batch' | 'items'>,
): ResponseTensor {
  const { name } = plan.info;
  const dataShape = shapeOfItems(plan.info.shape, context.batch, context.items);
  if (plan.classification !== undefined) {
    const { shape, strings } = classifications(data, dataShape, plan.classification, (index) =>
      context.labelOf(plan.index, index),
    );
    const json = { name, datatype: 'BYTES', shape };
    if (!plan.binary) return { json, data: JSON.stringify(strings) };
    const bytes = bytesElements(strings);
    return { json: { ...json, parameters: { binary_data_size: bytes.length } }, bytes };
  }
  const datatype = datatypeOf(plan.info.dtype);
  const json = { name, datatype, shape: dataShape };
  if (!plan.binary) return { json, data: jsonElements(datatype, data) };
  const bytes = toLittleEndian(data);
  return { json: { ...json, parameters: { binary_data_size: bytes.length } }, bytes };
}

export interface ResponseContext {
  readonly modelName: string;
  readonly modelVersion: string;
  /** The label of element `index` of output `output`, where the model has labels for it. */
  readonly labelOf: (output: number, index: number) => string | undefined;
  readonly limit: BodyLimit;
  /** The model's batch dimension, and the items the request held (its outputs' rows). */
  readonly batch: BatchDimension;
  readonly items: number;
}

/**
 * Before the model runs: the outputs asked for, as raw bytes (the least an answer carries),
 * fit the platform's answer limit. Many items of a large output would otherwise be computed
 * only to be refused.
 */
export function assertOutputsCanFit(
  plans: readonly OutputPlan[],
  batch: BatchDimension,
  items: number,
  limit: BodyLimit,
): void {
  const bytes = plans
    .filter((plan) => plan.classification === undefined)
    .reduce((sum, plan) => {
      const shape = shapeOfItems(plan.info.shape, batch, items);
      return sum + shape.reduce((a, b) => a * b, 1) * elementBytes(plan.info.dtype);
    }, 0);
  assertAnswerFits(bytes, limit);
}

function assertAnswerFits(bytes: number, limit: BodyLimit): void {
  if (!limit.answer || bytes <= limit.answer.maxBytes) return;
  throw new TfliteFnError(
    413,
    'response_too_large',
    `the response would be ${bytes} bytes; ${limit.answer.description}. Ask for fewer outputs, or for binary_data`,
  );
}

/** A JSON object's text with one more field, its value already JSON text. */
function withField(objectText: string, name: string, valueText: string): string {
  const separator = objectText === '{}' ? '' : ',';
  return `${objectText.slice(0, -1)}${separator}${JSON.stringify(name)}:${valueText}}`;
}

export function inferResponse(
  request: InferRequest,
  plans: readonly OutputPlan[],
  outputs: readonly TensorData[],
  context: ResponseContext,
): Response {
  const tensors = plans.map((plan) => responseTensor(plan, outputs[plan.index] as TensorData, context));
  const header = new TextEncoder().encode(
    withField(
      JSON.stringify({
        model_name: context.modelName,
        model_version: context.modelVersion,
        ...(request.id === undefined ? {} : { id: request.id }),
      }),
      'outputs',
      `[${tensors.map(({ json, data }) => (data === undefined ? JSON.stringify(json) : withField(JSON.stringify(json), 'data', data))).join(',')}]`,
    ),
  );
  const binary = tensors.flatMap((tensor) => (tensor.bytes ? [tensor.bytes] : []));
  const total = binary.reduce((sum, bytes) => sum + bytes.length, header.length);
  assertAnswerFits(total, context.limit);
  if (binary.length === 0) return new Response(header, { headers: { 'content-type': 'application/json' } });
  const body = new Uint8Array(total);
  body.set(header, 0);
  let at = header.length;
  for (const bytes of binary) {
    body.set(bytes, at);
    at += bytes.length;
  }
  return new Response(body, {
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length) },
  });
}
