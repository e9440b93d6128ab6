/**
 * The checker behind test/config.test.ts's "only src/config reads TFLITE_FN_*": finds, in a
 * source file's text, every place that reads a TFLITE_FN_* variable from an environment record
 * (process.env, or an `env` a handler is given) rather than asking src/config. Pure functions
 * over text, so the test also runs them on samples that must and must not be caught.
 *
 * What counts as a read, in code (comments are blanked first; strings are not, as a name in
 * quotes is exactly what an indirect read needs):
 * - a member named like a variable, of any record: `process.env.TFLITE_FN_X`,
 *   `env?.TFLITE_FN_X`, `vars.TFLITE_FN_X` after `const vars = process.env`, unless it is
 *   assigned (`= value`, not `==`; `??=` reads) or deleted: setting a variable for this process
 *   or a child is allowed;
 * - a computed member of an environment record, `process.env[name]`, whatever `name` is (it
 *   cannot be told from here which variable it is; no file outside src/config needs one), unless
 *   assigned or deleted;
 * - destructuring from an environment record: `const { TFLITE_FN_X } = process.env`;
 * - a string that is a variable's name, or the prefix alone (`'TFLITE_FN_X'`, `'TFLITE_FN_'`):
 *   the way to read one indirectly (`env[NAME]`, `'TFLITE_FN_X' in env`, a filter over
 *   Object.entries(process.env)). Elsewhere a declaration's `.name` says it.
 * An environment record is a name ending in `env` or `Env` (process.env, env, childEnv…).
 */

export interface EnvRead {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly why: string;
}

/** The text with its comments replaced by spaces (line breaks kept, so line numbers hold). */
export function withoutComments(source: string): string {
  let out = '';
  let i = 0;
  let quote: string | undefined;
  while (i < source.length) {
    const char = source[i] as string;
    const next = source[i + 1];
    if (quote !== undefined) {
      out += char;
      if (char === '\\') {
        out += next ?? '';
        i += 2;
        continue;
      }
      if (char === quote) quote = undefined;
      i++;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') {
      quote = char;
      out += char;
      i++;
    } else if (char === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (char === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

const RECORD = String.raw`\b\w*(?:env|Env)!?\s*`;

const RULES: readonly { pattern: RegExp; why: string; writable: boolean }[] = [
  {
    // Any record, not only one named env: `const vars = process.env; vars.TFLITE_FN_X` reads too.
    pattern: /[\w$)\]]\s*(?:\?\.|!?\.)\s*TFLITE_FN_\w+/g,
    why: 'reads a TFLITE_FN_* variable as a member of a record',
    writable: true,
  },
  {
    pattern: new RegExp(`${RECORD}(?:\\?\\.)?\\[[^\\]]*\\]`, 'g'),
    why: 'reads an environment record by a computed name',
    writable: true,
  },
  {
    pattern: /\{[^{}]*\bTFLITE_FN_\w+[^{}]*\}\s*=\s*[\w.]*(?:env|Env)\b/g,
    why: 'destructures TFLITE_FN_* variables from an environment record',
    writable: false,
  },
  {
    pattern: /(['"`])TFLITE_FN_[A-Z0-9_]*\1/g,
    why: "names a TFLITE_FN_* variable in a string (use the declaration's .name)",
    writable: false,
  },
];

/** Whether the match at `index` is set or deleted rather than read. */
function isWrite(code: string, index: number, length: number): boolean {
  const before = code.slice(Math.max(0, index - 20), index);
  if (/\bdelete\s+[\w.#$?!]*$/.test(before)) return true;
  const after = code.slice(index + length, index + length + 4);
  return /^\s*=(?!=)/.test(after);
}

/** Every read of a TFLITE_FN_* variable in `source` (the file's text). */
export function envReadsIn(file: string, source: string): EnvRead[] {
  const code = withoutComments(source);
  const lines = source.split('\n');
  const reads: EnvRead[] = [];
  for (const rule of RULES) {
    for (const match of code.matchAll(rule.pattern)) {
      const index = match.index;
      if (rule.writable && isWrite(code, index, match[0].length)) continue;
      const line = code.slice(0, index).split('\n').length;
      reads.push({ file, line, text: (lines[line - 1] ?? '').trim(), why: rule.why });
    }
  }
  return reads.sort((a, b) => a.line - b.line);
}
