/** The three ways a classification is shown: the classic sentence, JSON and plain text. */
import type { Classification } from '../tasks/classify/result.js';

export type OutputFormat = 'sentence' | 'json' | 'text';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['sentence', 'json', 'text'];

/** Plain text: one line per label, best first, `0.8353  military uniform`. */
export function toPlainText(result: Classification): string {
  return result.top.map((p) => `${p.score.toFixed(4)}  ${p.label}`).join('\n');
}

export function render(result: Classification, format: OutputFormat): string {
  switch (format) {
    case 'sentence':
      return result.sentence;
    case 'json':
      return JSON.stringify(result);
    case 'text':
      return toPlainText(result);
  }
}
