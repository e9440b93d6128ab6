/**
 * Turns an HTTP request into image bytes and options for the core. Accepted bodies:
 *   - raw image bytes (any image/* or application/octet-stream, or no content type),
 *   - multipart/form-data with exactly one file (other fields are options),
 *   - JSON {"image": "<base64>", "model": "...", "top": 5, "resize": "fill", "format": "json"}.
 * Options may also come from the query string; the body wins where both give one.
 */
import { parseResize, parseTop } from '../classify.js';
import { BadRequestError, TfliteFnError, TooLargeError } from '../errors.js';
import type { ResizeMode } from '../image/to-tensor.js';
import type { RawOptions } from '../tasks/task.js';
import { decodeBase64 } from './base64.js';
import { admissionOf, noRoomForBody } from './body-budget.js';
import { checkJsonPrefix, parseJsonEnvelope } from './json-envelope.js';
import type { BodyLimit } from './limits.js';
import { checkMultipartPrefix, type MultipartFile, parseMultipart } from './multipart.js';
import { parseFormat, type ResponseFormat } from './negotiate.js';

export interface ClassifyRequest {
  readonly image: Uint8Array;
  readonly model?: string | undefined;
  readonly top?: number | undefined;
  readonly resize?: ResizeMode | undefined;
  readonly format?: ResponseFormat | undefined;
}

function tooLarge(size: number | string, limit: BodyLimit): TooLargeError {
  return new TooLargeError('payload_too_large', `the request body is ${size} bytes; ${limit.description}`);
}

/** The Content-Length a request declares, if it declares a valid one. */
export function declaredLength(request: Request): number | undefined {
  const header = request.headers.get('content-length');
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header);
}

/**
 * The body stream failing means the connection went: the client closed it (or it dropped)
 * mid-upload. That is the client's doing, not a server error: 499, as nginx logs it.
 */
function clientClosed(cause: unknown): TfliteFnError {
  return new TfliteFnError(
    499,
    'client_closed_request',
    'the client closed the connection before its body arrived',
    {
      cause,
    },
  );
}

function bodyTooSlow(): TfliteFnError {
  return new TfliteFnError(
    408,
    'body_too_slow',
    'the body is arriving too slowly to arrive before the deadline; send it faster or smaller',
  );
}

/** A promise that rejects with `error()` when the signal aborts (and is never unhandled). */
function abortedAsError(signal: AbortSignal, error: () => TfliteFnError): Promise<never> {
  const rejected = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(error());
    else signal.addEventListener('abort', () => reject(error()), { once: true });
  });
  rejected.catch(() => undefined);
  return rejected;
}

/** Requests whose body was read to its end (the server closes connections of the others). */
const readToTheEnd = new WeakSet<Request>();

export function bodyWasRead(request: Request): boolean {
  return readToTheEnd.has(request);
}

/** How much of a body a prefix judge sees: the JSON structure budget, and then some. */
const PREFIX_BYTES = 64 * 1024;

/**
 * Reads the body, stopping as soon as it passes the limit (a 1 GB upload costs 6 MB). A
 * declared length is checked before reading and read into one buffer of that size; an
 * undeclared one takes its bytes from the request's body admission (if it has one) as they come.
 * `judgePrefix` sees the first PREFIX_BYTES once they are in and may refuse the body there.
 */
export async function readBodyCapped(
  request: Request,
  limit: BodyLimit,
  judgePrefix?: (prefix: Uint8Array) => void,
): Promise<Uint8Array> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit.maxBytes) throw tooLarge(declared, limit);
  if (!request.body) return new Uint8Array(0);
  const admission = admissionOf(request);
  // Not zero-filled: every byte returned is one that arrived (a short body is cut to size).
  const whole = declared !== undefined ? unfilledBytes(declared) : undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let judged = !judgePrefix;
  const reader = request.body.getReader();
  const stop = async (error: unknown): Promise<never> => {
    await reader.cancel().catch(() => undefined);
    throw error;
  };
  const tooSlow = admission ? abortedAsError(admission.tooSlow, bodyTooSlow) : undefined;
  for (;;) {
    const read = reader.read().catch((cause: unknown) => {
      throw clientClosed(cause);
    });
    const next = await (tooSlow ? Promise.race([read, tooSlow]) : read).catch(stop);
    if (next.done) break;
    const chunk = next.value as Uint8Array;
    total += chunk.byteLength;
    admission?.received(chunk.byteLength);
    if (total > limit.maxBytes) await stop(tooLarge(`more than ${limit.maxBytes}`, limit));
    if (whole) {
      // Only a platform that forwards a wrong Content-Length gets here with more bytes.
      if (total > whole.length)
        await stop(new BadRequestError('bad_length', 'the body is longer than its Content-Length'));
      whole.set(chunk, total - chunk.byteLength);
    } else {
      if (admission && !admission.grow(chunk.byteLength)) await stop(noRoomForBody());
      chunks.push(chunk);
    }
    if (!judged && total >= PREFIX_BYTES) {
      judged = true;
      try {
        judgePrefix?.(whole ? whole.subarray(0, total) : concat(chunks, total));
      } catch (error) {
        await stop(error);
      }
    }
  }
  readToTheEnd.add(request);
  if (whole) return total === whole.length ? whole : whole.subarray(0, total);
  return concat(chunks, total);
}

/** A buffer of its own (never a slice of Node's shared pool), not zero-filled. */
function unfilledBytes(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * The options every route reads itself: `model` (which model runs) and `format` (the answer's
 * form); the rest are the task's (its parseOptions checks them).
 */
function modelOption(raw: RawOptions): string | undefined {
  const model = raw.model;
  if (model !== undefined && (typeof model !== 'string' || model === '')) {
    throw new BadRequestError('bad_option', 'model must be a model id string');
  }
  return model as string | undefined;
}

function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function fromMultipart(request: Request, body: Uint8Array, query: RawOptions): TaskRequest {
  const form = parseMultipart(body, request.headers.get('content-type') ?? '');
  if (form.files.length !== 1) {
    throw new BadRequestError(
      form.files.length === 0 ? 'no_file' : 'too_many_files',
      `send exactly one file in the multipart form; got ${form.files.length}`,
    );
  }
  return taskRequest((form.files[0] as MultipartFile).bytes, { ...query, ...form.fields });
}

function fromJson(body: Uint8Array, query: RawOptions): TaskRequest {
  const value = parseJsonEnvelope(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('bad_json', 'the JSON body must be an object like {"image": "<base64>"}');
  }
  const { image, ...fields } = value as RawOptions;
  if (typeof image !== 'string') {
    throw new BadRequestError('no_image', 'the JSON body needs "image": the image as a base64 string');
  }
  return taskRequest(decodeBase64(image), { ...query, ...fields });
}

function taskRequest(image: Uint8Array, options: RawOptions): TaskRequest {
  return { image, model: modelOption(options), options };
}

/** An image and the options that came with it: any route's request, before its task reads it. */
export interface TaskRequest {
  readonly image: Uint8Array;
  readonly model: string | undefined;
  /** Every option as sent (query string, then form or JSON fields, which win), image left out. */
  readonly options: RawOptions;
}

export async function readTaskRequest(request: Request, limit: BodyLimit): Promise<TaskRequest> {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const type = mediaType(request);
  const isRaw = type === '' || type === 'application/octet-stream' || type.startsWith('image/');
  if (!isRaw && type !== 'multipart/form-data' && type !== 'application/json') {
    throw new TfliteFnError(
      415,
      'unsupported_media_type',
      `content type ${type} is not accepted; send image bytes (image/* or application/octet-stream), multipart/form-data with one file, or JSON {"image": "<base64>"}`,
    );
  }
  const contentType = request.headers.get('content-type') ?? '';
  const judge =
    type === 'multipart/form-data'
      ? (prefix: Uint8Array) => checkMultipartPrefix(prefix, contentType)
      : type === 'application/json'
        ? checkJsonPrefix
        : undefined;
  const body = await readBodyCapped(request, limit, judge);
  if (type === 'multipart/form-data') return fromMultipart(request, body, query);
  if (type === 'application/json') return fromJson(body, query);
  return taskRequest(body, query);
}

/** A /classify request read the way every task route reads one (kept for library users). */
export async function readClassifyRequest(request: Request, limit: BodyLimit): Promise<ClassifyRequest> {
  const { image, model, options } = await readTaskRequest(request, limit);
  return {
    image,
    model,
    top: parseTop(options.top),
    resize: parseResize(options.resize),
    format: parseFormat(options.format) as ResponseFormat | undefined,
  };
}
