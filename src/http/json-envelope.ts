/**
 * JSON request envelopes (`{"image": "<base64>", "model": ...}`, Dapr's CloudEvents) parsed
 * with bounded work. JSON.parse on the main thread is not: 30 MB of `[` keeps it busy for
 * seconds while every other request waits. Here the only large thing an envelope may hold is
 * a string (the base64 image), which is found with native byte searches and decoded natively;
 * everything else (nesting, keys, numbers, whitespace, escapes) has small fixed budgets, so a
 * hostile body is refused after a few kilobytes of looking.
 */
import { isUtf8 } from 'node:buffer';
import { BadRequestError, TooLargeError } from '../errors.js';

/** Objects and arrays nest at most this deep (a CloudEvent's data.image is depth 2). */
const MAX_DEPTH = 8;
/** Keys and values in all; an envelope holds a handful. */
const MAX_TOKENS = 4096;
/** Bytes outside string contents: braces, keys' quotes, numbers, whitespace. */
const MAX_STRUCTURE_BYTES = 64 * 1024;
/** Escaped quotes and runs of backslashes: where finding a string's end needs a look back. */
const MAX_QUOTE_ESCAPES = 4096;
const MAX_LITERAL_BYTES = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function bad(message: string): BadRequestError {
  return new BadRequestError('bad_json', message);
}

/** Thrown by a scanner of a prefix when the prefix ends before the verdict: read on. */
const PREFIX_ENDS = Symbol('prefix ends');

class EnvelopeScanner {
  #pos = 0;
  #tokens = 0;
  #structure = 0;
  #quoteEscapes = 0;

  /** `prefix`: the bytes are the start of a body; running out of them is not an error. */
  constructor(
    private readonly bytes: Buffer,
    private readonly prefix = false,
  ) {}

  parse(): unknown {
    const value = this.#value(0);
    this.#whitespace();
    if (this.#pos !== this.bytes.length) throw bad('the JSON body has more after its value');
    return value;
  }

  /** A syntax error, unless it is only that a prefix ended here. */
  #unexpected(message: string): never {
    if (this.prefix && this.#pos >= this.bytes.length) throw PREFIX_ENDS;
    throw bad(message);
  }

  #spend(structureBytes: number): void {
    this.#structure += structureBytes;
    if (this.#structure > MAX_STRUCTURE_BYTES) {
      throw new TooLargeError(
        'payload_too_large',
        `the JSON envelope is too large: outside its strings it may hold at most ${MAX_STRUCTURE_BYTES} bytes`,
      );
    }
  }

  #whitespace(): void {
    const start = this.#pos;
    const { bytes } = this;
    while (this.#pos < bytes.length) {
      const byte = bytes[this.#pos];
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break;
      this.#pos++;
      // Checked as it goes, so a body of spaces costs the budget, not its length.
      if (this.#pos - start > MAX_STRUCTURE_BYTES) this.#spend(this.#pos - start);
    }
    this.#spend(this.#pos - start);
  }

  #value(depth: number): unknown {
    this.#whitespace();
    if (++this.#tokens > MAX_TOKENS) throw bad(`the JSON body has more than ${MAX_TOKENS} keys and values`);
    const byte = this.bytes[this.#pos];
    if (byte === 0x7b || byte === 0x5b) {
      if (depth >= MAX_DEPTH) throw bad(`the JSON body nests deeper than ${MAX_DEPTH} levels`);
      return byte === 0x7b ? this.#object(depth + 1) : this.#array(depth + 1);
    }
    if (byte === QUOTE) return this.#string();
    if (byte === undefined) this.#unexpected('the JSON body ends where a value should be');
    return this.#literal();
  }

  #object(depth: number): Record<string, unknown> {
    this.#pos++;
    this.#spend(1);
    const out: Record<string, unknown> = {};
    this.#whitespace();
    if (this.bytes[this.#pos] === 0x7d) {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#whitespace();
      if (this.bytes[this.#pos] !== QUOTE) this.#unexpected('a JSON object key must be a string');
      const key = this.#string();
      this.#whitespace();
      if (this.bytes[this.#pos] !== 0x3a) this.#unexpected("a JSON object key must be followed by ':'");
      this.#pos++;
      // As JSON.parse does: "__proto__" becomes an own property, never the prototype.
      Object.defineProperty(out, key, {
        value: this.#value(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (this.#separator(0x7d)) return out;
    }
  }

  #array(depth: number): unknown[] {
    this.#pos++;
    this.#spend(1);
    const out: unknown[] = [];
    this.#whitespace();
    if (this.bytes[this.#pos] === 0x5d) {
      this.#pos++;
      return out;
    }
    for (;;) {
      out.push(this.#value(depth));
      if (this.#separator(0x5d)) return out;
    }
  }

  /** After a member: ',' continues (false), the closing byte ends (true). */
  #separator(close: number): boolean {
    this.#whitespace();
    const byte = this.bytes[this.#pos];
    if (byte === undefined) this.#unexpected('the JSON body ends inside an object or array');
    this.#pos++;
    this.#spend(1);
    if (byte === close) return true;
    if (byte === 0x2c) return false;
    throw bad('the JSON body is missing a comma or a closing bracket');
  }

  /**
   * A string: its end found with native searches for '"' (a base64 image has none inside),
   * decoded natively. Only a quote preceded by backslashes needs a look back, and those are few.
   */
  #string(): string {
    const { bytes } = this;
    const open = this.#pos;
    this.#spend(2);
    let from = open + 1;
    for (;;) {
      const close = bytes.indexOf(QUOTE, from);
      if (close === -1) {
        if (this.prefix) throw PREFIX_ENDS;
        throw bad('a JSON string is not closed');
      }
      let backslashes = 0;
      while (bytes[close - 1 - backslashes] === BACKSLASH) {
        backslashes++;
        if (backslashes > MAX_LITERAL_BYTES) throw bad('a JSON string has a run of backslashes too long');
      }
      if (backslashes % 2 === 0) {
        this.#pos = close + 1;
        break;
      }
      if (++this.#quoteEscapes > MAX_QUOTE_ESCAPES) throw bad('a JSON string has too many escaped quotes');
      from = close + 1;
    }
    const escaped = bytes.indexOf(BACKSLASH, open + 1);
    if (escaped === -1 || escaped >= this.#pos) return bytes.toString('utf8', open + 1, this.#pos - 1);
    try {
      // A string literal alone: native and linear, whatever its escapes.
      return JSON.parse(bytes.toString('utf8', open, this.#pos)) as string;
    } catch (cause) {
      throw new BadRequestError('bad_json', 'a JSON string has an invalid escape', { cause });
    }
  }

  /** A number, true, false or null: short by nature, checked by JSON.parse. */
  #literal(): unknown {
    const start = this.#pos;
    const { bytes } = this;
    while (this.#pos < bytes.length && this.#pos - start <= MAX_LITERAL_BYTES) {
      const byte = bytes[this.#pos] as number;
      const literalByte =
        (byte >= 0x30 && byte <= 0x39) ||
        (byte >= 0x61 && byte <= 0x7a) ||
        byte === 0x2b ||
        byte === 0x2d ||
        byte === 0x2e ||
        byte === 0x45;
      if (!literalByte) break;
      this.#pos++;
    }
    this.#spend(this.#pos - start);
    if (this.prefix && this.#pos >= bytes.length) throw PREFIX_ENDS; // the literal may go on
    try {
      if (this.#pos === start) throw new Error('no literal');
      return JSON.parse(bytes.toString('latin1', start, this.#pos));
    } catch (cause) {
      throw new BadRequestError('bad_json', 'the JSON body could not be parsed', { cause });
    }
  }
}

/** Parses a JSON body with bounded work; the same values JSON.parse gives, or a 400/413. */
export function parseJsonEnvelope(body: Uint8Array): unknown {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (!isUtf8(bytes)) throw bad('the JSON body is not valid UTF-8');
  return new EnvelopeScanner(bytes).parse();
}

/**
 * Judges the first bytes of a JSON body while the rest is still on its way: 30 MB of `[`
 * is refused after 9 bytes, not after 30 MB have been received. Returns when the prefix is
 * fine so far; throws the error the whole body would get when it already cannot be.
 */
export function checkJsonPrefix(prefix: Uint8Array): void {
  const bytes = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  try {
    new EnvelopeScanner(bytes, true).parse();
  } catch (error) {
    if (error !== PREFIX_ENDS) throw error;
  }
}
