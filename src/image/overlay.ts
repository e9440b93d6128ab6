/**
 * Drawing on a photo: boxes, text labels, lines, dots (an SVG overlay) and a mask layer
 * (RGBA pixels, scaled to the photo), composited by sharp over the photo's upright,
 * flattened pixels (the pixels the model saw, BMP included), at the photo's own size. Every
 * task that answers with a picture draws with this.
 */
import type { OverlayOptions } from 'sharp';
import { drawingErrorToTfliteFnError, openImage } from './decode.js';
import { assertPictureSize } from './picture-limit.js';
import { loadSharp } from './sharp-module.js';
import { DECODE_TIMEOUT_SECONDS } from './work-limits.js';

export type PictureFormat = 'jpeg' | 'png';

export interface OverlayBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly color?: string;
  /** Drawn on a filled tab above the box's top-left corner (inside it at the photo's top edge). */
  readonly label?: string;
}

export interface OverlayLine {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly color?: string;
}

export interface OverlayDot {
  readonly x: number;
  readonly y: number;
  readonly color?: string;
}

export interface OverlayText {
  readonly x: number;
  readonly y: number;
  readonly text: string;
  readonly color?: string;
}

/** RGBA pixels of any size, stretched over the whole photo (a segmentation mask). */
export interface OverlayMask {
  readonly rgba: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Scale smoothly (bilinear) instead of keeping hard pixel edges. */
  readonly smooth?: boolean;
}

export interface Overlay {
  readonly mask?: OverlayMask;
  readonly boxes?: readonly OverlayBox[];
  readonly lines?: readonly OverlayLine[];
  readonly dots?: readonly OverlayDot[];
  readonly texts?: readonly OverlayText[];
}

const BOX_COLOR = '#ff1744';
const DOT_COLOR = '#00e676';
const LINE_COLOR = '#00e5ff';

/** Labels come from label files: escaped so a stray `<` or `&` cannot break the SVG. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Line width in pixels for a photo: visible on a thumbnail and on a 4K photo alike. */
export function strokeWidth(width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / 300));
}

function text(x: number, y: number, content: string, color: string, size: number): string {
  // A dark outline under the fill keeps the text readable on any background.
  return `<text x="${x}" y="${y}" font-family="sans-serif" font-size="${size}" fill="${color}" stroke="#000" stroke-width="${size / 8}" paint-order="stroke">${escapeXml(content)}</text>`;
}

/** The overlay's vector parts as one SVG of the photo's size. */
export function overlaySvg(overlay: Overlay, width: number, height: number): string {
  const stroke = strokeWidth(width, height);
  const fontSize = Math.max(12, stroke * 6);
  const parts: string[] = [];
  for (const l of overlay.lines ?? []) {
    parts.push(
      `<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="${l.color ?? LINE_COLOR}" stroke-width="${stroke}" stroke-linecap="round"/>`,
    );
  }
  for (const b of overlay.boxes ?? []) {
    const color = b.color ?? BOX_COLOR;
    parts.push(
      `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`,
    );
    if (b.label) {
      const above = b.y - stroke >= fontSize;
      parts.push(text(b.x + stroke, above ? b.y - stroke : b.y + fontSize, b.label, color, fontSize));
    }
  }
  for (const d of overlay.dots ?? []) {
    parts.push(`<circle cx="${d.x}" cy="${d.y}" r="${stroke}" fill="${d.color ?? DOT_COLOR}"/>`);
  }
  for (const t of overlay.texts ?? []) parts.push(text(t.x, t.y, t.text, t.color ?? '#ffffff', fontSize));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The photo (as received: any supported format) with the overlay drawn on it. */
export async function drawOverlay(
  image: Uint8Array,
  overlay: Overlay,
  format: PictureFormat,
): Promise<Buffer> {
  const sharp = await loadSharp();
  try {
    const opened = await openImage(image);
    const [width, height] = [opened.uprightWidth, opened.uprightHeight];
    assertPictureSize(width, height);
    const layers: OverlayOptions[] = [];
    if (overlay.mask) {
      const { rgba, width: maskWidth, height: maskHeight, smooth } = overlay.mask;
      const scaled = await sharp(rgba, { raw: { width: maskWidth, height: maskHeight, channels: 4 } })
        .resize(width, height, { fit: 'fill', kernel: smooth ? 'linear' : 'nearest' })
        .raw()
        .toBuffer();
      layers.push({ input: scaled, raw: { width, height, channels: 4 }, top: 0, left: 0 });
    }
    layers.push({ input: Buffer.from(overlaySvg(overlay, width, height)), top: 0, left: 0 });
    // Composited on the decoding pipeline, so libvips streams the photo through in strips
    // rather than holding its pixels whole (192 MB at 64 MP) in a buffer first.
    const composed = opened.pipeline
      .clone()
      .removeAlpha()
      .composite(layers)
      // Re-encoding a photo at full size costs as much as decoding it: the same backstop.
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS });
    // Optimised Huffman tables keep every DCT coefficient of the photo in memory until the
    // end (~370 MB at 64 MP, twice the CPU) for files ~10% smaller: not worth it here.
    return format === 'png'
      ? await composed.png().toBuffer()
      : await composed.jpeg({ quality: 90, optimiseCoding: false }).toBuffer();
  } catch (cause) {
    throw drawingErrorToTfliteFnError(cause);
  }
}
