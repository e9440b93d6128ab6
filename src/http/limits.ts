/** Request- and answer-size limits of the platforms we run on, and how we say them when hit. */

export interface BodyLimit {
  /** Largest request body the platform lets through, in bytes. */
  readonly maxBytes: number;
  /** Said in the 413 message, so the caller knows whose limit it is. */
  readonly description: string;
  /**
   * Largest answer body (a picture) the platform returns, and how we say it. A larger one
   * would reach the client as the platform's own opaque error: a PNG of a 12 MP photo is ~15 MB.
   */
  readonly answer?: { readonly maxBytes: number; readonly description: string };
}

const MB = 1024 * 1024;

export const BODY_LIMITS = {
  // Synchronous invocations carry at most 6 MB of event; a binary body travels as base64
  // (4/3 larger), so about 4.5 MB of image fits.
  lambda: {
    maxBytes: 6 * MB,
    description: 'AWS Lambda accepts at most 6 MB per request (about 4.5 MB of image once base64-encoded)',
    // A buffered response is at most 6 MB too, and a picture travels as base64.
    answer: {
      maxBytes: 4.5 * MB,
      description:
        'AWS Lambda returns at most 6 MB per response (about 4.5 MB of picture once base64-encoded)',
    },
  },
  vercel: {
    maxBytes: 4.5 * MB,
    description: 'Vercel Functions accept request bodies of at most 4.5 MB',
    answer: { maxBytes: 4.5 * MB, description: 'Vercel Functions return response bodies of at most 4.5 MB' },
  },
  netlify: { maxBytes: 6 * MB, description: 'Netlify Functions accept at most 6 MB per request' },
  server: { maxBytes: 32 * MB, description: 'this server accepts at most 32 MB per request' },
} as const satisfies Record<string, BodyLimit>;
