/**
 * The benchmark index, docs/benchmarks.md, written from the benchmarks' own results
 * (docs/benchmarks/<name>.json): per benchmark its command, what it measures, when and on which
 * machine it last ran, each headline figure with its target and whether it is met, and a link
 * to its page. Every publication writes it again (bench/publish.ts); `npm run bench:index`
 * (`node dist/bench/index.js [--publish-dir DIR]`) does only that.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BENCHMARKS, type Benchmark, commandOf } from './benchmarks.js';
import { type Figure, measuredText, verdictText } from './figures.js';
import { recordedMachineLine } from './machine.js';
import { publicationDir } from './publication-dir.js';
import type { BenchmarkResult } from './publish.js';

/** The fields of docs/benchmarks/<name>.json the index reads (bench/publish.ts writes them). */
export type IndexedResult = Omit<BenchmarkResult, 'name'>;

/** What the index knows of one benchmark: its result, or only its page, or nothing yet. */
export interface IndexEntry {
  readonly benchmark: Benchmark;
  readonly result?: IndexedResult;
  /** A page without a result: published before results were recorded. */
  readonly page?: { readonly title: string; readonly date: string };
}

const HOW = `Figures are published by the benchmarks themselves, never copied by hand: a full run writes
\`docs/benchmarks/<name>.md\` from its own rows and \`docs/benchmarks/<name>.json\` with its
headline figures, each beside its target, and the machine it ran on (CPU model, cores, the CPU
flags that change inference kernels, the onnxruntime int8 kernel paths, Node); then this page is
written again from every result (\`npm run bench:index\` does only that). Development and CI
machines change from run to run (Intel with VNNI, AMD with only AVX2), so compare figures only
within one file, and ratios rather than milliseconds.`;

const NOTES = `\`npm run bench:hardening\` runs bench:inputs, bench:kills and bench:hostile. Every command takes
\`--quick\` when run as \`node dist/bench/<name>.js --quick\` (fewer iterations; prints, publishes
nothing; with \`--publish-dir DIR\` it publishes into DIR and DIR.md instead, marked as a quick
run, which is how tests prove a benchmark publishes). Progress goes to stderr, tables to
stdout, and \`npm run bench\` also keeps its JSON in \`bench/results/\` (not committed).

How the two cold starts in \`main.md\` are measured: from \`spawn\` to the first byte of the answer.
The Lambda figure runs \`dist/layers/smoke.js\` under a local Lambda Runtime API with one inference
thread, as \`serverless.yml\` deploys it; \`node dist/bench/serverless.js [--quick]\` reports, as
Lambda does, init (runtime start to its first poll for an event, which now includes loading the
model) and the first invocation apart. Handler overhead is measured round-robin against the
bare core in one process, so drift hits all alike.`;

const NOT_RE_RUN = 'not yet re-run since figures were recorded';

function cell(value: string): string {
  return value.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (values: readonly string[]) => `| ${values.map(cell).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

function targetsMet(figures: readonly Figure[]): string {
  const judged = figures.filter((figure) => figure.met !== null);
  if (judged.length === 0) return 'no targets';
  const met = judged.filter((figure) => figure.met === true).length;
  return `${met} of ${judged.length}`;
}

function pageLink(entry: IndexEntry, folder: string): string {
  const name = `${entry.benchmark.name}.md`;
  return entry.result || entry.page ? `[${name}](${folder}/${name})` : 'not published yet';
}

function summaryRow(entry: IndexEntry, folder: string): string[] {
  const { benchmark, result } = entry;
  return [
    `\`${commandOf(benchmark)}\``,
    benchmark.measures,
    result ? `${result.date.slice(0, 10)}${result.quick ? ' (--quick)' : ''}` : entry.page ? NOT_RE_RUN : '-',
    result ? targetsMet(result.figures) : '-',
    pageLink(entry, folder),
  ];
}

function section(entry: IndexEntry, folder: string): string[] {
  const { benchmark, result, page } = entry;
  const title = result?.title ?? page?.title ?? benchmark.name;
  const parts = [`## ${title}`, '', `\`${result?.command ?? commandOf(benchmark)}\`: ${benchmark.measures}.`];
  if (!result) {
    parts.push(
      '',
      page
        ? `Not yet re-run since figures were recorded: its page (${pageLink(entry, folder)}, published ${page.date}) has figures, but no result names them with their targets yet.`
        : 'Not published yet.',
    );
    return parts;
  }
  parts.push(
    '',
    `Run on ${result.date.slice(0, 10)}${result.quick ? ' (a --quick run: too few rounds to judge)' : ''} on ${recordedMachineLine(result.machine)}. Page: ${pageLink(entry, folder)}.`,
  );
  if (result.figures.length > 0) {
    const rows = result.figures.map((figure) => [
      figure.figure,
      measuredText(figure),
      figure.target ?? '(reference, no target)',
      verdictText(figure),
    ]);
    parts.push('', table(['figure', 'measured', 'target', 'met'], rows));
  }
  return parts;
}

/** docs/benchmarks.md's text; `folder` is the pages' folder relative to it. */
export function renderIndex(entries: readonly IndexEntry[], folder = 'benchmarks'): string {
  const parts = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench:index\` (and by every benchmark that publishes) from \`${folder}/*.json\`; do not edit by hand.`,
    '',
    HOW,
    '',
    table(
      ['command', 'what it measures', 'last run', 'targets met', 'page'],
      entries.map((entry) => summaryRow(entry, folder)),
    ),
  ];
  for (const entry of entries) parts.push('', ...section(entry, folder));
  parts.push('', '## Notes', '', NOTES);
  return `${parts.join('\n')}\n`;
}

function readResult(file: string): IndexedResult {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<IndexedResult>;
  if (
    typeof parsed.title !== 'string' ||
    typeof parsed.date !== 'string' ||
    typeof parsed.command !== 'string' ||
    !parsed.machine ||
    !Array.isArray(parsed.figures)
  ) {
    throw new Error(`${file} is not a benchmark result (title, command, date, machine, figures)`);
  }
  return { ...(parsed as IndexedResult), quick: parsed.quick === true };
}

/** A page's title and date from its heading lines (bench/publish.ts writes both). */
function readPage(file: string): { title: string; date: string } {
  const text = readFileSync(file, 'utf8');
  const title = /^# (.+)$/m.exec(text)?.[1] ?? basename(file, '.md');
  const date = /^Generated by .* on (\d{4}-\d{2}-\d{2})/m.exec(text)?.[1] ?? 'on an unknown date';
  return { title, date };
}

/** What `dir` (docs/benchmarks or a --publish-dir) holds for each benchmark. */
export function readEntries(dir: string): IndexEntry[] {
  return BENCHMARKS.map((benchmark) => {
    const json = join(dir, `${benchmark.name}.json`);
    const md = join(dir, `${benchmark.name}.md`);
    if (existsSync(json)) return { benchmark, result: readResult(json) };
    if (existsSync(md)) return { benchmark, page: readPage(md) };
    return { benchmark };
  });
}

/** The index for a publication folder: beside it, named after it (docs/benchmarks.md). */
export function indexFileFor(dir: string): string {
  return join(dirname(dir), `${basename(dir)}.md`);
}

export function writeIndex(dir: string): string {
  const file = indexFileFor(dir);
  writeFileSync(file, renderIndex(readEntries(dir), basename(dir)));
  return file;
}

if (process.argv[1]?.endsWith(join('bench', 'index.js'))) {
  console.log(`wrote ${writeIndex(publicationDir())}`);
}
