/**
 * Content negotiation: which form of a task's answer a client wants. Every task answers JSON
 * and text; html where it has one (classify's sentence); and its pictures by name (detect's
 * jpeg/png, a mask, a cut-out), each with its media type.
 */
import { BadRequestError, shown } from '../errors.js';
import type { Task } from '../tasks/task.js';

/** A form of the answer: its name (the `format` option) and its media type. */
export interface Offer {
  readonly format: string;
  readonly mediaType: string;
}

/** The names every route knows; a task's pictures add their own. */
export type ResponseFormat = 'json' | 'html' | 'text' | 'jpeg' | 'png';

const JSON_OFFER: Offer = { format: 'json', mediaType: 'application/json' };
const TEXT_OFFER: Offer = { format: 'text', mediaType: 'text/plain' };
const HTML_OFFER: Offer = { format: 'html', mediaType: 'text/html' };

/** What negotiate() offers when no task is named: the text forms and an annotated photo. */
const EVERY_FORM: readonly Offer[] = [
  JSON_OFFER,
  TEXT_OFFER,
  HTML_OFFER,
  { format: 'jpeg', mediaType: 'image/jpeg' },
  { format: 'png', mediaType: 'image/png' },
];

/** The forms a task answers in: json, text, html if it has one, then its pictures in order. */
export function offersOf(task: Pick<Task, 'html' | 'pictures'>): Offer[] {
  return [
    JSON_OFFER,
    TEXT_OFFER,
    ...(task.html ? [HTML_OFFER] : []),
    ...Object.entries(task.pictures ?? {}).map(([format, picture]) => ({
      format,
      mediaType: picture.contentType,
    })),
  ];
}

/** `sentence` was the html form's first name (classify's classic sentence). */
const ALIASES: Readonly<Record<string, string>> = { sentence: 'html' };

/**
 * The `format` option (query, form or JSON field): one of the offered names, or undefined when
 * not given. A name the route does not offer is the client's mistake, named with the choices.
 */
export function parseFormat(
  value: unknown,
  offers: readonly Offer[] = EVERY_FORM,
  route = 'this route',
): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const name = typeof value === 'string' ? (ALIASES[value] ?? value) : undefined;
  if (name !== undefined && offers.some((offer) => offer.format === name)) return name;
  throw new BadRequestError(
    'bad_option',
    `format must be one of ${offers.map((offer) => offer.format).join(', ')} for ${route}, got '${shown(value)}'`,
  );
}

/**
 * Picks from the Accept header by quality, then by the order the client listed, the first
 * type the route offers. API clients (no Accept, or `*\/*`) get JSON; a browser's
 * `text/html,...` gets html where there is one; `image/*` the first picture. Nothing offered
 * that the client accepts: JSON (an answer it can read beats a 406).
 */
export function negotiate(accept: string | null | undefined, offers: readonly Offer[] = EVERY_FORM): string {
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
    if (type === '*/*' || type === 'application/*') return 'json';
    const [major] = type.split('/');
    const offer = type.endsWith('/*')
      ? offers.find((o) => o.mediaType.startsWith(`${major}/`))
      : offers.find((o) => o.mediaType === type);
    if (offer) return offer.format;
  }
  return 'json';
}
