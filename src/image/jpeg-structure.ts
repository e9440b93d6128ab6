/**
 * A JPEG's structure read from its markers, without decoding any pixels.
 *
 * Two hostile shapes are cheap to send and expensive to decode, and both show in the markers:
 * - a progressive JPEG decodes every block once per scan, so hundreds of repeated scans turn a
 *   few hundred KB into tens of seconds of CPU (the pixel limit does not see this);
 * - a header promising 8000x8000 followed by a few bytes of data, which a decoder "completes"
 *   with grey. Each block needs at least one Huffman code, at least one bit, so the entropy-coded
 *   bytes must be at least blocks / 8 for a Huffman-coded frame.
 */
import { BadRequestError } from '../errors.js';

export interface JpegSegment {
  /** The marker's second byte, e.g. 0xda for a start of scan. */
  readonly marker: number;
  /** Offset of the 0xff that starts the marker. */
  readonly start: number;
  /** Offset just past the segment; for a scan, past its entropy-coded data too. */
  readonly end: number;
}

export interface JpegStructure {
  readonly width: number;
  readonly height: number;
  /** The start-of-frame marker: 0xc0 baseline, 0xc2 progressive, ... */
  readonly frameMarker: number;
  readonly scans: number;
  /** Bytes of entropy-coded data over all scans (restart markers and stuffing included). */
  readonly entropyBytes: number;
  /** Blocks of the component with the fewest: every one needs a Huffman code in some scan. */
  readonly fewestBlocks: number;
  /** Stray bytes between marker segments, which libjpeg skips with a warning. */
  readonly strayBytes: number;
  readonly segments: readonly JpegSegment[];
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

function corrupt(detail: string): BadRequestError {
  return new BadRequestError('corrupt_image', `the JPEG image is truncated or corrupt (${detail})`);
}

/** Start-of-frame markers: 0xc0-0xcf except DHT (c4), JPG (c8) and DAC (cc). */
function isFrameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers without a length: RST0-7, TEM. */
function isStandalone(marker: number): boolean {
  return (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01;
}

/** Where the entropy-coded data that starts at `from` ends: at the next real marker. */
function entropyEnd(bytes: Uint8Array, from: number): number {
  // indexOf runs at memchr speed: the server walks uploads' markers on its main thread
  // (decode-cost.ts), where a byte-at-a-time loop over 32 MB would hold it for tens of ms.
  let at = bytes.indexOf(0xff, from);
  while (at >= 0 && at + 1 < bytes.length) {
    const next = bytes[at + 1] as number;
    // 0xff00 is a stuffed 0xff, RSTn sits inside the data, 0xffff is fill before a marker.
    if (next !== 0 && next !== 0xff && !isStandalone(next)) return at;
    at = bytes.indexOf(0xff, at + 1);
  }
  return bytes.length;
}

/** Every marker segment up to EOI; throws if the file ends first. */
export function jpegSegments(bytes: Uint8Array): JpegSegment[] {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) throw corrupt('no start of image');
  const segments: JpegSegment[] = [];
  let at = 2;
  for (;;) {
    // Like libjpeg, skip stray bytes before a marker (it warns "extraneous bytes before
    // marker"; some encoders pad segments) and 0xff fill bytes.
    while (at < bytes.length && bytes[at] !== 0xff) at++;
    while (at + 1 < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
    if (at + 1 >= bytes.length) throw corrupt('it ends before the end-of-image marker');
    const marker = bytes[at + 1] as number;
    if (marker === EOI) {
      segments.push({ marker, start: at, end: at + 2 });
      return segments;
    }
    if (isStandalone(marker)) {
      segments.push({ marker, start: at, end: at + 2 });
      at += 2;
      continue;
    }
    if (at + 4 > bytes.length) throw corrupt('it ends inside a marker');
    const length = ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    const headerEnd = at + 2 + length;
    if (length < 2 || headerEnd > bytes.length) throw corrupt('it ends inside a marker segment');
    const end = marker === SOS ? entropyEnd(bytes, headerEnd) : headerEnd;
    segments.push({ marker, start: at, end });
    at = end;
  }
}

function frameBlocks(
  bytes: Uint8Array,
  frame: JpegSegment,
): { width: number; height: number; fewest: number } {
  const at = frame.start + 4;
  if (frame.end - at < 6) throw corrupt('short frame header');
  const height = ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
  const width = ((bytes[at + 3] as number) << 8) | (bytes[at + 4] as number);
  const count = bytes[at + 5] as number;
  if (count === 0 || frame.end - at < 6 + 3 * count) throw corrupt('short frame header');
  const sampling = Array.from({ length: count }, (_, i) => bytes[at + 7 + 3 * i] as number);
  const hMax = Math.max(...sampling.map((s) => s >> 4 || 1));
  const vMax = Math.max(...sampling.map((s) => s & 15 || 1));
  const blocks = sampling.map((s) => {
    const w = Math.ceil((width * (s >> 4 || 1)) / hMax);
    const h = Math.ceil((height * (s & 15 || 1)) / vMax);
    return Math.ceil(w / 8) * Math.ceil(h / 8);
  });
  return { width, height, fewest: Math.min(...blocks) };
}

export function readJpegStructure(bytes: Uint8Array): JpegStructure {
  const segments = jpegSegments(bytes);
  const frame = segments.find((s) => isFrameMarker(s.marker));
  const firstScan = segments.findIndex((s) => s.marker === SOS);
  if (!frame || firstScan < 0 || segments.indexOf(frame) > firstScan)
    throw corrupt('no frame before the scans');
  const { width, height, fewest } = frameBlocks(bytes, frame);
  let scans = 0;
  let entropyBytes = 0;
  for (const segment of segments) {
    if (segment.marker !== SOS) continue;
    scans++;
    const headerEnd =
      segment.start +
      2 +
      (((bytes[segment.start + 2] as number) << 8) | (bytes[segment.start + 3] as number));
    entropyBytes += segment.end - headerEnd;
  }
  let strayBytes = 0;
  let previousEnd = 2;
  for (const segment of segments) {
    strayBytes += segment.start - previousEnd;
    previousEnd = segment.end;
  }
  return {
    width,
    height,
    frameMarker: frame.marker,
    scans,
    entropyBytes,
    fewestBlocks: fewest,
    strayBytes,
    segments,
  };
}

/** Huffman-coded DCT frames (baseline, extended, progressive): one code of >= 1 bit per block. */
export function isHuffmanDct(frameMarker: number): boolean {
  return frameMarker === 0xc0 || frameMarker === 0xc1 || frameMarker === 0xc2;
}
