/**
 * The one place base64 becomes bytes. Bytes stay bytes: decoding to a string and back (the
 * classic serverless bug) corrupts every image, so nothing here ever builds a string.
 */
import { BadRequestError } from '../errors.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decodes standard or URL-safe base64 (whitespace allowed); refuses anything else. */
export function decodeBase64(text: string, what = 'the image'): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new BadRequestError('bad_base64', `${what} is not valid base64`);
  }
  const bytes = Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
