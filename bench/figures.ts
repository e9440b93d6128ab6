/**
 * A benchmark's headline figures, each beside the target an issue set for it. A benchmark
 * declares them once (with its own target constants), and the same records become its page's
 * "against the targets" table, its machine-readable result (docs/benchmarks/<name>.json) and
 * the index docs/benchmarks.md, so a target and its verdict are never written twice.
 */
import type { Row } from './publish.js';

/** The comparisons targets use: at most, below, at least, exactly. */
export type Comparison = '<=' | '<' | '>=' | '=';

export interface Limit {
  readonly compare: Comparison;
  readonly value: number;
}

export const atMost = (value: number): Limit => ({ compare: '<=', value });
export const below = (value: number): Limit => ({ compare: '<', value });
export const atLeast = (value: number): Limit => ({ compare: '>=', value });
export const exactly = (value: number): Limit => ({ compare: '=', value });

export interface Figure {
  readonly figure: string;
  /** null: not measured in this run (a part skipped, a case missing). */
  readonly measured: number | string | null;
  readonly unit: string;
  /** The target in words (`<= 22 ms`); null where no issue set one (shown for reference). */
  readonly target: string | null;
  /** Whether the target is met; null where there is no target. Unmeasured is not met. */
  readonly met: boolean | null;
}

function meets(measured: number, limit: Limit): boolean {
  switch (limit.compare) {
    case '<=':
      return measured <= limit.value;
    case '<':
      return measured < limit.value;
    case '>=':
      return measured >= limit.value;
    case '=':
      return measured === limit.value;
  }
}

function withUnit(value: number | string, unit: string): string {
  if (unit === '') return String(value);
  return unit === 'x' || unit === '%' ? `${value}${unit}` : `${value} ${unit}`;
}

/** The limit in words with its unit, e.g. `<= 2000 ms`, `>= 1.3x`, `0`. */
export function limitText(limit: Limit, unit: string): string {
  const value = withUnit(limit.value, unit);
  return limit.compare === '=' ? value : `${limit.compare} ${value}`;
}

/**
 * A figure judged against its limit. `measured` undefined or NaN means not measured, which
 * never counts as met. `note` adds words to the target (where the limit comes from, what
 * it is relative to).
 */
export function judged(
  figure: string,
  measured: number | undefined,
  unit: string,
  limit: Limit,
  note?: string,
): Figure {
  const known = measured !== undefined && !Number.isNaN(measured);
  return {
    figure,
    measured: known ? measured : null,
    unit,
    target: `${limitText(limit, unit)}${note ? ` (${note})` : ''}`,
    met: known ? meets(measured, limit) : false,
  };
}

/** A figure shown for reference: no issue set a target for it. */
export function reported(figure: string, measured: number | string | undefined, unit: string): Figure {
  const known = measured !== undefined && !(typeof measured === 'number' && Number.isNaN(measured));
  return { figure, measured: known ? measured : null, unit, target: null, met: null };
}

export function measuredText(figure: Figure): string {
  return figure.measured === null ? 'not measured' : withUnit(figure.measured, figure.unit);
}

export function verdictText(figure: Figure): string {
  if (figure.met === null) return '';
  return figure.met ? 'met' : 'NOT met';
}

/** The figures as table rows: figure, measured, target, met. */
export function figureRows(figures: readonly Figure[]): Row[] {
  return figures.map((figure) => ({
    figure: figure.figure,
    measured: measuredText(figure),
    target: figure.target ?? '(reference, no target)',
    met: verdictText(figure),
  }));
}

/** Whether every figure with a target met it. */
export function allMet(figures: readonly Figure[]): boolean {
  return figures.every((figure) => figure.met !== false);
}
