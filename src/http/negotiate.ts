/** Content negotiation: which form of the answer a client wants. */
import { BadRequestError } from '../errors.js';

/** Text forms for every route; the image forms (an annotated photo) for /detect. */
export type ResponseFormat = 'json' | 'html' | 'text' | 'jpeg' | 'png';

const MEDIA_TYPES: Record<string, ResponseFormat> = {
  'application/json': 'json',
  'text/html': 'html',
  'text/plain': 'text',
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/*': 'jpeg',
};

/** `format` (query or JSON field) wins; 'sentence' is accepted as another name for html. */
export function parseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'sentence') return 'html';
  if (value === 'json' || value === 'html' || value === 'text' || value === 'jpeg' || value === 'png')
    return value;
  throw new BadRequestError(
    'bad_option',
    `format must be json, html, text, jpeg or png, got '${String(value)}'`,
  );
}

/**
 * Picks from the Accept header by quality, then by the order the client listed. API clients
 * (no Accept, or `*\/*`) get JSON; a browser's `text/html,...` gets the classic sentence.
 */
export function negotiate(accept: string | null | undefined): ResponseFormat {
  if (!accept) return 'json';
  const ranked = accept
    .split(',')
    .map((part, order) => {
      const [type = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim(), quality: q ? Number(q.slice(2)) : 1, order };
    })
    .filter((entry) => entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.order - b.order);
  for (const { type } of ranked) {
    const format = MEDIA_TYPES[type];
    if (format) return format;
    if (type === '*/*' || type === 'application/*') return 'json';
    if (type === 'text/*') return 'text';
  }
  return 'json';
}
