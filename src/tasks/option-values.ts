/**
 * Reading a task's option values as they arrive (query, form field, CLI flag: strings; JSON:
 * anything). One reading for every task, so `top: [5]`, `true` or `'0x5'` are refused
 * everywhere rather than turned into numbers by Number()'s coercions in some tasks only.
 */
import { BadRequestError, shown } from '../errors.js';

/** Left out: the task's default applies. */
export function absent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A plain decimal: no hex, exponents or blanks, which Number() would quietly accept. */
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly whole?: boolean;
}

/**
 * A number option: a JSON number or a plain decimal string within the range; undefined when
 * left out. Anything else is 400 bad_option naming the option.
 */
export function numberOption(value: unknown, name: string, range: NumberRange): number | undefined {
  if (absent(value)) return undefined;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && DECIMAL.test(value)
        ? Number(value)
        : NaN;
  const whole = range.whole === true;
  if (
    !Number.isFinite(number) ||
    number < range.min ||
    number > range.max ||
    (whole && !Number.isInteger(number))
  ) {
    throw new BadRequestError(
      'bad_option',
      `${name} must be a ${whole ? 'whole number' : 'number'} from ${range.min} to ${range.max}, got '${shown(value)}'`,
    );
  }
  return number;
}
