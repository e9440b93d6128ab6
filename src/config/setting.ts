/**
 * What a configuration variable is, and how one is read. Every `TFLITE_FN_*` variable is
 * declared once (src/config/variables.ts) with what it does, its type, default, accepted values
 * and where it applies; that declaration is what the code reads it through and what
 * docs/reference.md's table is written from, so the two cannot drift apart.
 *
 * A bad value is one error that names the variable and what it accepts (400 bad_option, as a
 * bad flag is: the CLI exits with its usage status), never a silent fall back to the default.
 * Values are read when asked, not cached: the CLI and the benchmarks set some variables for
 * themselves (and the processes they start) before the code that reads them runs.
 */
import { BadRequestError, shown } from '../errors.js';

/** An environment record: process.env, or the one a handler or test is given. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Where a variable matters. 'all': every surface (CLI, library, handlers, server). */
export type Scope = 'all' | 'server' | 'serverless' | 'stream' | 'sandbox' | 'development';

/** Text for the table that may depend on a constant of another module (read when the table is written). */
export type Text = string | (() => string);

/** How a variable's text becomes a value: undefined means the text is not one it accepts. */
export interface Parser<T> {
  readonly parse: (text: string) => T | undefined;
  /** What it accepts, as said in the error and the table: "a whole number from 1 to 64". */
  readonly accepted: Text;
  /** The type column of the table. */
  readonly type: string;
}

export interface Declaration<T> {
  readonly name: `TFLITE_FN_${string}`;
  /** What it does, in one line. */
  readonly summary: string;
  readonly parser: Parser<T>;
  /** The default as the table says it (when it is computed, how). */
  readonly default: Text;
  readonly scope: readonly Scope[];
  /**
   * Whether a blank value is a value (TFLITE_FN_PRELOAD='' preloads nothing); by default a blank
   * variable counts as unset, which is how the server passes "none" to its workers.
   */
  readonly blankIsValue?: boolean;
  /** Other variables read, in order, when this one is unset (PORT after TFLITE_FN_PORT). */
  readonly alsoFrom?: readonly string[];
}

export interface Setting<T> extends Declaration<T> {
  /** The variable's text as set; undefined when unset (or blank, unless blank is a value). */
  text(env?: Env): string | undefined;
  /** The value set, parsed; undefined when unset. A bad value throws, naming the variable. */
  read(env?: Env): T | undefined;
  /** Parses a value given another way (a flag): a bad one throws, naming `source`. */
  parse(text: string, source?: string): T;
  /**
   * Sets the variable for this process and the ones it starts (`--engine` becomes
   * TFLITE_FN_ENGINE), or for the environment record given; only when it is unset with `ifUnset`.
   */
  assign(text: string, options?: { readonly env?: NodeJS.ProcessEnv; readonly ifUnset?: boolean }): void;
  /** Sets the variable in this process; the function returned puts back what was there. */
  override(text: string): () => void;
  /** Runs `work` with the variable set to `text` in this process, then puts back what was there. */
  withValue<R>(text: string, work: () => Promise<R>): Promise<R>;
}

/** A setting whose default is a fixed value (or a constant of the module that decides it). */
export interface SettingWithDefault<T> extends Setting<T> {
  readonly fallback: () => T;
  /** The value set, else the default. */
  value(env?: Env): T;
}

export function resolveText(text: Text): string {
  return typeof text === 'function' ? text() : text;
}

export function defineSetting<T>(declaration: Declaration<T>): Setting<T> {
  const { name, parser, blankIsValue = false, alsoFrom = [] } = declaration;
  const textOf = (env: Env, variable: string): string | undefined => {
    const raw = env[variable];
    if (raw === undefined || (!blankIsValue && raw.trim() === '')) return undefined;
    return raw;
  };
  const parse = (text: string, source: string = name): T => {
    const value = parser.parse(text);
    if (value === undefined)
      throw new BadRequestError(
        'bad_option',
        `${source} must be ${resolveText(parser.accepted)}, got '${shown(text)}'`,
      );
    return value;
  };
  const override = (text: string): (() => void) => {
    const previous = process.env[name];
    process.env[name] = text;
    return () => {
      if (previous === undefined) delete process.env[name];
      else process.env[name] = previous;
    };
  };
  return {
    ...declaration,
    text(env = process.env) {
      for (const variable of [name, ...alsoFrom]) {
        const text = textOf(env, variable);
        if (text !== undefined) return text;
      }
      return undefined;
    },
    read(env = process.env) {
      for (const variable of [name, ...alsoFrom]) {
        const text = textOf(env, variable);
        if (text !== undefined) return parse(text, variable);
      }
      return undefined;
    },
    parse,
    assign(text, { env = process.env, ifUnset = false } = {}) {
      if (ifUnset && textOf(env, name) !== undefined) return;
      env[name] = text;
    },
    override,
    async withValue(text, work) {
      const restore = override(text);
      try {
        return await work();
      } finally {
        restore();
      }
    },
  };
}

export function defineSettingWithDefault<T>(
  declaration: Omit<Declaration<T>, 'default'> & { readonly default?: Text; readonly fallback: () => T },
): SettingWithDefault<T> {
  const setting = defineSetting({
    ...declaration,
    default: declaration.default ?? (() => String(declaration.fallback())),
  });
  return {
    ...setting,
    fallback: declaration.fallback,
    value(env = process.env) {
      return setting.read(env) ?? declaration.fallback();
    },
  };
}

// ---- parsers ------------------------------------------------------------------------------

/** A whole number from `min` (to `max` when given); `max` may be a module's constant. */
export function wholeNumber(min: number, max?: () => number, unit = ''): Parser<number> {
  const suffix = unit ? ` (${unit})` : '';
  return {
    type: unit ? `integer, ${unit}` : 'integer',
    accepted: () =>
      max === undefined
        ? `a whole number >= ${min}${suffix}`
        : `a whole number from ${min} to ${max()}${suffix}`,
    parse: (text) => {
      const trimmed = text.trim();
      if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
      const number = Number(trimmed);
      if (!Number.isSafeInteger(number) || number < min || (max !== undefined && number > max()))
        return undefined;
      return number;
    },
  };
}

/** One of a fixed list of words. */
export function oneOf<const V extends string>(values: readonly V[]): Parser<V> {
  return {
    type: 'word',
    accepted: `one of ${values.join(', ')}`,
    parse: (text) => ((values as readonly string[]).includes(text.trim()) ? (text.trim() as V) : undefined),
  };
}

/** On or off: true or 1, false or 0 (any case). */
export const onOff: Parser<boolean> = {
  type: 'boolean',
  accepted: 'true or false (1 or 0)',
  parse: (text) => {
    const word = text.trim().toLowerCase();
    if (word === 'true' || word === '1') return true;
    if (word === 'false' || word === '0') return false;
    return undefined;
  },
};

/** Any text, as given (a path, a URL, a key, a name). */
export function anyText(type: string, accepted: string): Parser<string> {
  return { type, accepted, parse: (text) => text };
}

/** A comma-separated list (items trimmed, empty ones dropped). */
export function commaList(accepted: string): Parser<string[]> {
  return {
    type: 'comma list',
    accepted,
    parse: (text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
  };
}
