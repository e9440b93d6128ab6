/**
 * multipart/form-data (RFC 7578) read with bounded work: boundaries are found with native
 * byte searches, and the number of parts, the size of each part's headers and the bytes of the
 * text fields are capped, so 200,000 tiny fields are refused after the first few dozen instead
 * of being parsed one by one on the main thread (what Request.formData() does).
 */
import { BadRequestError, TooLargeError } from '../errors.js';

/** One file plus option fields (model, top, resize, format) fit many times over. */
export const MAX_MULTIPART_PARTS = 32;
const MAX_PART_HEADER_BYTES = 8 * 1024;
/** All text fields together: they are options, not data. */
const MAX_FIELD_BYTES = 64 * 1024;

export interface MultipartFile {
  readonly field: string;
  readonly filename: string;
  readonly type: string;
  readonly bytes: Uint8Array;
}

export interface MultipartForm {
  readonly files: MultipartFile[];
  readonly fields: Record<string, string>;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function bad(message: string): BadRequestError {
  return new BadRequestError('bad_multipart', message);
}

/** The boundary parameter of a multipart content type (quoted or not), 1-70 characters. */
export function multipartBoundary(contentType: string): string {
  const match = contentType.match(/;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw bad('the multipart/form-data content type has no valid boundary');
  return boundary;
}

/** `name="x"; filename="y"` parameters of a Content-Disposition header. */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const match of value.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const name = (match[1] as string).toLowerCase();
    params.set(name, (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1').trim());
  }
  return params;
}

function partHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

export function parseMultipart(body: Uint8Array, contentType: string): MultipartForm {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${multipartBoundary(contentType)}`);
  const between = Buffer.concat([CRLF, delimiter]);
  // No prototype: a field named __proto__ stays a field.
  const form: MultipartForm = { files: [], fields: Object.create(null) as Record<string, string> };
  let fieldBytes = 0;
  let at = bytes.indexOf(delimiter);
  const afterPreamble = at === 0 || (bytes[at - 2] === 0x0d && bytes[at - 1] === 0x0a);
  if (at === -1 || !afterPreamble) throw bad('the multipart body has no boundary line');
  for (let parts = 0; ; parts++) {
    at += delimiter.length;
    if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) return form; // the closing delimiter
    if (parts >= MAX_MULTIPART_PARTS) {
      throw new TooLargeError(
        'payload_too_large',
        `the multipart body has more than ${MAX_MULTIPART_PARTS} parts`,
      );
    }
    while (bytes[at] === 0x20 || bytes[at] === 0x09) at++; // transport padding
    if (bytes[at] !== 0x0d || bytes[at + 1] !== 0x0a) throw bad('a multipart boundary line is malformed');
    const headersStart = at + 2;
    // Searched only as far as headers may go, so a part without an end costs 8 KB of looking.
    const window = bytes.subarray(headersStart - 2, headersStart + MAX_PART_HEADER_BYTES + 2);
    const found = window.indexOf(HEADER_END);
    if (found === -1) throw bad('a multipart part has no end of headers (or headers over 8 KB)');
    const headersEnd = headersStart - 2 + found;
    const contentStart = headersEnd + HEADER_END.length;
    const contentEnd = bytes.indexOf(between, contentStart);
    if (contentEnd === -1) throw bad('the multipart body ends before its closing boundary');
    const headers = partHeaders(bytes.toString('utf8', headersStart, Math.max(headersStart, headersEnd)));
    const params = dispositionParams(headers.get('content-disposition') ?? '');
    const name = params.get('name') ?? '';
    const content = body.subarray(contentStart, contentEnd);
    if (params.has('filename') || params.has('filename*')) {
      const type = headers.get('content-type') ?? 'application/octet-stream';
      form.files.push({ field: name, filename: params.get('filename') ?? '', type, bytes: content });
    } else {
      fieldBytes += content.byteLength;
      if (fieldBytes > MAX_FIELD_BYTES) {
        throw new TooLargeError(
          'payload_too_large',
          `the multipart text fields exceed ${MAX_FIELD_BYTES} bytes`,
        );
      }
      form.fields[name] = bytes.toString('utf8', contentStart, contentEnd);
    }
    at = contentEnd + CRLF.length;
  }
}

/**
 * Judges the first bytes of a multipart body while the rest is on its way: a form of 200,000
 * fields shows more than MAX_MULTIPART_PARTS boundaries in its first kilobytes.
 */
export function checkMultipartPrefix(prefix: Uint8Array, contentType: string): void {
  const bytes = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const between = Buffer.from(`\r\n--${multipartBoundary(contentType)}`);
  let boundaries = 0;
  // One more than the parts: the closing delimiter is a boundary line too.
  for (let at = bytes.indexOf(between); at !== -1; at = bytes.indexOf(between, at + between.length)) {
    if (++boundaries > MAX_MULTIPART_PARTS + 1) {
      throw new TooLargeError(
        'payload_too_large',
        `the multipart body has more than ${MAX_MULTIPART_PARTS} parts`,
      );
    }
  }
}
