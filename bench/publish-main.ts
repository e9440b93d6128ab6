/**
 * docs/benchmarks/main.md from the results `npm run bench` saved (bench/results/latest.json),
 * with the machine and date recorded in them. `npm run bench` calls it at the end of a full run;
 * `node dist/bench/publish-main.js [--results FILE] [--publish-dir DIR]` publishes the latest
 * (or another) saved run again (after a change to what is shown, without measuring again).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/store/paths.js';
import type { Figure } from './figures.js';
import { publish, type RecordedMachine, type Row } from './publish.js';

type Results = Record<string, unknown>;

function rows(value: unknown): Row[] {
  return Array.isArray(value) ? (value as Row[]) : [];
}

/** An object of figures as rows of figure / value, for the parts that report one object. */
function figures(value: unknown): Row[] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).map(([figure, measured]) => ({
    figure,
    value: typeof measured === 'object' ? JSON.stringify(measured) : String(measured),
  }));
}

/**
 * The figures with their targets. A result saved before figures were recorded this way has
 * rows of figure / target / measured (words) / ok: read as they are, unit in the words.
 */
function targetFigures(value: unknown): Figure[] {
  return rows(value).map((row) => {
    if ('met' in row) return row as unknown as Figure;
    const legacy = row as Row & { ok?: boolean };
    return {
      figure: String(legacy.figure),
      measured: legacy.measured === 'not run' ? null : (legacy.measured ?? null),
      unit: '',
      target: legacy.target === undefined ? null : String(legacy.target),
      met: legacy.ok === true,
    };
  });
}

export function publishMain(results: Results): string {
  const section = (heading: string, sectionRows: Row[]) =>
    sectionRows.length > 0 ? [{ heading, rows: sectionRows }] : [];
  return publish({
    name: 'main',
    title: 'Speed, start-up, accuracy and size (issues #2 to #8)',
    measured: {
      date: String(results.date),
      machine: results.machine as RecordedMachine,
      quick: results.quick === true,
    },
    figuresHeading: 'Targets',
    figures: targetFigures(results.targets),
    sections: [
      ...section(
        'Engines side by side (imagenet, grace_hopper.jpg, rotating blocks of 20 runs, ms)',
        rows(results.engines),
      ),
      ...section('Warm latency per model and photo (default engine, ms)', rows(results.warm)),
      ...section('Face detection, warm (ms)', rows(results.detection)),
      ...section('Accuracy on imagenet-sample', rows(results.accuracy)),
      ...section('Handler overhead over the core (in process)', rows(results.handlerOverhead)),
      // Init (runtime start to its first poll for an event, model loaded) and the first
      // invocation apart, as Lambda reports them.
      ...section(
        'Lambda cold start from the built layer (local Runtime API, ms)',
        figures(results.lambdaColdStart),
      ),
      ...section('Sandbox (guest vs built-in, same model)', figures(results.sandbox)),
      ...section('Self-hosted server under load', figures(results.server)),
      ...section('Stream processing on NATS JetStream', figures(results.stream)),
    ],
  });
}

if (process.argv[1]?.endsWith(join('bench', 'publish-main.js'))) {
  // --results FILE: another saved run (tests give one with --publish-dir).
  const at = process.argv.indexOf('--results');
  const latest =
    at >= 0
      ? resolve(process.argv[at + 1] as string)
      : join(packageRoot(), 'bench', 'results', 'latest.json');
  console.log(`wrote ${publishMain(JSON.parse(readFileSync(latest, 'utf8')) as Results)}`);
}
