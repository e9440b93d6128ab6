/**
 * The one error type of tflite-fn.
 *
 * Every failure a caller can meet is a `TfliteFnError` with an HTTP status, a stable machine
 * code and a message that is safe to show to the person who sent the request. The underlying
 * error (a sharp or LiteRT message, a file-system error) travels in `cause` for logs only:
 * handlers show `message`, never `cause` or a stack.
 */
export class TfliteFnError extends Error {
  /** HTTP status that says what went wrong: 4xx for the caller's input, 5xx for ours. */
  readonly status: number;
  /** Stable, machine-readable code, e.g. `unsupported_image`. */
  readonly code: string;
  /** Whether `message` may be shown to a client. Always true for 4xx. */
  readonly expose: boolean;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; expose?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = options?.expose ?? status < 500;
  }

  /** The shape every surface (CLI `--json`, HTTP bodies) uses for errors. */
  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.expose ? this.message : 'internal error' } };
  }
}

/** The input is not an image we can read (text, random bytes, SVG, an unknown format). */
export class UnsupportedImageError extends TfliteFnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(415, 'unsupported_image', message, options);
  }
}

/** The input is too big: too many bytes, or a header that promises too many pixels. */
export class TooLargeError extends TfliteFnError {
  constructor(
    code: 'image_too_large' | 'payload_too_large' | 'picture_too_large',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(413, code, message, options);
  }
}

/** The request itself is wrong: empty body, bad option, a truncated or corrupt image. */
export class BadRequestError extends TfliteFnError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(400, code, message, options);
  }
}

/** How long a client's value may be before an error message shows only its start. */
const SHOWN_CHARACTERS = 40;

/**
 * A value the client sent, as an error message quotes it: its start only, so a huge value is
 * not echoed back whole (or into logs); non-strings as JSON (`[5]`, not `5`).
 */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > SHOWN_CHARACTERS ? `${text.slice(0, SHOWN_CHARACTERS)}…` : text;
}

/** No model with that id is known. */
export class UnknownModelError extends TfliteFnError {
  constructor(modelId: string, known: readonly string[]) {
    super(
      404,
      'unknown_model',
      `unknown model '${shown(modelId)}'; known models: ${known.join(', ') || '(none)'}`,
    );
  }
}

/**
 * A model could not be loaded or does not run: a missing or corrupt file, a descriptor that
 * does not match the model, a model whose operators fail. The message names what was tried
 * and the command that fixes it, so it is shown to clients too (it holds no secrets).
 */
export class ModelLoadError extends TfliteFnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(500, 'model_load_failed', message, { ...options, expose: true });
  }
}

/** A model descriptor (YAML) is invalid; the message lists every problem with its path. */
export class DescriptorError extends TfliteFnError {
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super(500, 'invalid_model_descriptor', `invalid model descriptor ${file}:\n  ${problems.join('\n  ')}`, {
      expose: true,
    });
    this.problems = problems;
  }
}

/** Wraps anything that is not already a TfliteFnError, so callers handle one type. */
export function toTfliteFnError(error: unknown): TfliteFnError {
  if (error instanceof TfliteFnError) return error;
  return new TfliteFnError(500, 'internal_error', 'internal error', { cause: error, expose: false });
}

/**
 * The service cannot take the request now (queue full, shutting down, no worker up): retry
 * after a pause. Its messages are ours and say only what the client can act on (how busy,
 * when to retry), so they are shown, unlike other 5xx messages.
 */
export class UnavailableError extends TfliteFnError {
  /** Sent as Retry-After. */
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, retryAfterSeconds = 1) {
    super(503, code, message, { expose: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
