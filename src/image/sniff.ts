/**
 * Which image format some bytes are, from their magic numbers alone.
 *
 * This decides what a failure means: bytes that start like a PNG but do not decode are a
 * damaged PNG (400), while bytes that start like nothing we read are an unsupported input
 * (415). It also denies by default: only these formats ever reach a decoder.
 */
export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'heif' | 'bmp';

function startsWith(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (bytes.length < at + expected.length) return false;
  return expected.every((value, i) => bytes[at + i] === value);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

/** ISO base media file brands of HEIF and AVIF still images and sequences. */
const HEIF_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

function isHeif(bytes: Uint8Array): boolean {
  if (!startsWith(bytes, 4, ascii('ftyp')) || bytes.length < 12) return false;
  const brand = String.fromCharCode(...bytes.subarray(8, 12));
  return HEIF_BRANDS.has(brand);
}

export function sniffFormat(bytes: Uint8Array): SniffedFormat | undefined {
  if (startsWith(bytes, 0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, 0, [0x89, ...ascii('PNG\r\n'), 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, 0, ascii('GIF87a')) || startsWith(bytes, 0, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, 0, ascii('RIFF')) && startsWith(bytes, 8, ascii('WEBP'))) return 'webp';
  // Little- and big-endian TIFF, and BigTIFF (version 43).
  if (startsWith(bytes, 0, [0x49, 0x49, 42, 0]) || startsWith(bytes, 0, [0x4d, 0x4d, 0, 42])) return 'tiff';
  if (startsWith(bytes, 0, [0x49, 0x49, 43, 0]) || startsWith(bytes, 0, [0x4d, 0x4d, 0, 43])) return 'tiff';
  if (isHeif(bytes)) return 'heif';
  if (startsWith(bytes, 0, ascii('BM'))) return 'bmp';
  return undefined;
}
