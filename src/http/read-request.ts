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
import { decodeBase64 } from './base64.js';
import type { BodyLimit } from './limits.js';
import { parseFormat, type ResponseFormat } from './negotiate.js';

export interface ClassifyRequest {
  readonly image: Uint8Array;
  readonly model?: string | undefined;
  readonly top?: number | undefined;
  readonly resize?: ResizeMode | undefined;
  readonly format?: ResponseFormat | undefined;
}

type RawOptions = Record<string, unknown>;

function tooLarge(size: number | string, limit: BodyLimit): TooLargeError {
  return new TooLargeError('payload_too_large', `the request body is ${size} bytes; ${limit.description}`);
}

/** Reads the body, stopping as soon as it passes the limit (a 1 GB upload costs 6 MB). */
export async function readBodyCapped(request: Request, limit: BodyLimit): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit.maxBytes) throw tooLarge(declared, limit);
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${limit.maxBytes}`, limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function options(raw: RawOptions): Omit<ClassifyRequest, 'image'> {
  const model = raw.model;
  if (model !== undefined && (typeof model !== 'string' || model === '')) {
    throw new BadRequestError('bad_option', 'model must be a model id string');
  }
  return {
    model: model as string | undefined,
    top: parseTop(raw.top),
    resize: parseResize(raw.resize),
    format: parseFormat(raw.format),
  };
}

function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

async function fromMultipart(
  request: Request,
  body: Uint8Array,
  query: RawOptions,
): Promise<ClassifyRequest> {
  let form: FormData;
  try {
    const copy = new Request(request.url, {
      method: 'POST',
      headers: { 'content-type': request.headers.get('content-type') ?? '' },
      body,
    });
    form = await copy.formData();
  } catch (cause) {
    throw new BadRequestError('bad_multipart', 'the multipart/form-data body could not be parsed', { cause });
  }
  const files: File[] = [];
  const fields: RawOptions = {};
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') fields[name] = value;
    else files.push(value);
  }
  if (files.length !== 1) {
    throw new BadRequestError(
      files.length === 0 ? 'no_file' : 'too_many_files',
      `send exactly one file in the multipart form; got ${files.length}`,
    );
  }
  const image = new Uint8Array(await (files[0] as File).arrayBuffer());
  return { image, ...options({ ...query, ...fields }) };
}

function fromJson(body: Uint8Array, query: RawOptions): ClassifyRequest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new BadRequestError('bad_json', 'the JSON body could not be parsed', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('bad_json', 'the JSON body must be an object like {"image": "<base64>"}');
  }
  const fields = value as RawOptions;
  if (typeof fields.image !== 'string') {
    throw new BadRequestError('no_image', 'the JSON body needs "image": the image as a base64 string');
  }
  return { image: decodeBase64(fields.image), ...options({ ...query, ...fields }) };
}

export async function readClassifyRequest(request: Request, limit: BodyLimit): Promise<ClassifyRequest> {
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
  const body = await readBodyCapped(request, limit);
  if (type === 'multipart/form-data') return fromMultipart(request, body, query);
  if (type === 'application/json') return fromJson(body, query);
  return { image: body, ...options(query) };
}
