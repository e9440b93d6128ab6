/**
 * `npm run bench:tasks`: the figures of issue #13, measured in one run on this machine.
 *
 *   warm end to end per task (runTask: decode, inference, post-processing) on the same photo,
 *   each as a ratio to `imagenet` classify(), measured in rotating blocks so drift hits all;
 *   classify() and the CLI cold start of this build against the commit before the tasks
 *   (BASELINE), alternating in one run (see baseline.ts).
 *
 * Flags: --quick (few runs, no baseline build), --baseline <commit>.
 * A full run publishes docs/benchmarks/tasks.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCatalog } from '../src/index.js';
import { sharedDataDir } from '../src/store/paths.js';
import { taskById } from '../src/tasks/index.js';
import { runTask } from '../src/tasks/run.js';
import { createProgress } from '../src/util/progress.js';
import { type Build, buildCommit, runInBuild, thisBuild } from './baseline.js';
import { atMost, type Figure, figureRows, judged, reported } from './figures.js';
import { publish, publishing, type Row } from './publish.js';
import { median, round, table } from './stats.js';

/** The last commit before the task model (issue #12's final commit). */
const DEFAULT_BASELINE = '4a83d4e';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const baselineAt = argv.indexOf('--baseline');
const baselineCommit = baselineAt >= 0 ? (argv[baselineAt + 1] as string) : DEFAULT_BASELINE;

const PHOTO = 'grace_hopper.jpg';
const photo = readFileSync(join(sharedDataDir(), 'images', PHOTO));

interface Case {
  readonly name: string;
  readonly task: string;
  readonly model: string;
  /** Largest ratio to imagenet classify() the issue allows; undefined when it names none. */
  readonly limit?: number;
  readonly times: number[];
  engine?: string;
}

const CASES: Case[] = [
  { name: 'classify (imagenet)', task: 'classify', model: 'imagenet', times: [] },
  { name: 'objects (ssd-coco)', task: 'objects', model: 'objects', limit: 2.5, times: [] },
  { name: 'pose (movenet)', task: 'pose', model: 'movenet', limit: 1.5, times: [] },
  { name: 'embed (mobilenet-embed)', task: 'embed', model: 'mobilenet-embed', limit: 1.2, times: [] },
  { name: 'segment (deeplab)', task: 'segment', model: 'deeplab', limit: 3, times: [] },
  { name: 'segment (selfie)', task: 'segment', model: 'selfie', times: [] },
];

/** Issue #13: adding the tasks may cost classify() and the CLI cold start at most this much. */
const BASELINE_LIMIT_PERCENT = 5;

interface Measured {
  readonly rows: Row[];
  readonly figures: Figure[];
}

async function warmTasks(): Promise<Measured> {
  const catalog = new ModelCatalog();
  const runs = quick ? 10 : 60;
  const BLOCK = 10;
  const SETTLE = 2;
  const once = async (c: Case) => {
    const task = taskById(c.task);
    const started = performance.now();
    const result = await runTask(task, photo, task.parseOptions({}), { model: c.model, catalog });
    c.engine = result.engine;
    return performance.now() - started;
  };
  for (const c of CASES) for (let i = 0; i < 3; i++) await once(c); // load and warm
  const progress = createProgress('tasks side by side', runs * CASES.length);
  let done = 0;
  while (CASES.some((c) => c.times.length < runs)) {
    for (const c of CASES) {
      for (let i = 0; i < BLOCK + SETTLE && c.times.length < runs; i++) {
        const ms = await once(c);
        if (i >= SETTLE) {
          c.times.push(ms);
          progress.update(++done);
        }
      }
    }
  }
  progress.finish();
  await catalog.dispose();
  const base = median((CASES[0] as Case).times);
  const ratioOf = (c: Case) => round(median(c.times) / base, 2);
  const rows = CASES.map((c) => ({
    case: c.name,
    engine: c.engine ?? '',
    'median ms': round(median(c.times), 1),
    'x classify': ratioOf(c),
  }));
  const figures = CASES.slice(1).map((c) => {
    const figure = `${c.name} warm, over imagenet classify()`;
    return c.limit === undefined
      ? reported(figure, ratioOf(c), 'x')
      : judged(figure, ratioOf(c), 'x', atMost(c.limit));
  });
  return { rows, figures };
}

/** A child process that times `runs` warm classify() calls in a build; prints the median. */
const CLASSIFY_SCRIPT = `
const [root, photoPath, runs] = process.argv.slice(2);
const { classify, ModelCatalog } = await import(root + '/dist/src/index.js');
const { readFileSync } = await import('node:fs');
const photo = readFileSync(photoPath);
const catalog = new ModelCatalog();
for (let i = 0; i < 10; i++) await classify(photo, { catalog });
const times = [];
for (let i = 0; i < Number(runs); i++) {
  const started = performance.now();
  await classify(photo, { catalog });
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ median: times[Math.floor(times.length / 2)] }));
`;

async function againstBaseline(): Promise<Measured> {
  const progress = createProgress(`building ${baselineCommit} for comparison`, 1);
  const { build: old, remove } = buildCommit(baselineCommit);
  progress.finish();
  const builds: Build[] = [old, thisBuild()];
  const script = join(tmpdir(), `tflite-fn-classify-${process.pid}.mjs`);
  writeFileSync(script, CLASSIFY_SCRIPT);
  const photoPath = join(sharedDataDir(), 'images', PHOTO);
  const coldTimes = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  const warmTimes = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  const coldRuns = 15;
  const warmRounds = 4;
  try {
    const steps = createProgress('this build vs baseline', (coldRuns + warmRounds) * builds.length);
    let done = 0;
    for (let i = 0; i < coldRuns; i++) {
      for (const build of builds) {
        const run = await runInBuild(build, [join(build.root, 'dist/handlers/cli/main.js')], photo);
        coldTimes.get(build.name)?.push(run.firstOutputMs);
        steps.update(++done);
      }
    }
    for (let i = 0; i < warmRounds; i++) {
      for (const build of builds) {
        const run = await runInBuild(build, [script, build.root, photoPath, '150'], new Uint8Array());
        warmTimes.get(build.name)?.push((JSON.parse(run.stdout) as { median: number }).median);
        steps.update(++done);
      }
    }
    steps.finish();
  } finally {
    remove();
  }
  const compared = (figure: string, samples: Map<string, number[]>) => {
    const before = median(samples.get(old.name) ?? []);
    const after = median(samples.get('this build') ?? []);
    const row: Row = {
      figure,
      [`before (${old.name}) ms`]: round(before, 1),
      'this build ms': round(after, 1),
    };
    const change = judged(
      `${figure}: change against ${old.name}`,
      round((after / before - 1) * 100, 1),
      '%',
      atMost(BASELINE_LIMIT_PERCENT),
    );
    return { row, change };
  };
  const cold = compared(`CLI cold start to first output, median of ${coldRuns}`, coldTimes);
  const warm = compared(`classify() warm, median of ${warmRounds} process medians`, warmTimes);
  return { rows: [cold.row, warm.row], figures: [cold.change, warm.change] };
}

const tasks = await warmTasks();
console.log(`\nwarm end to end on ${PHOTO} (default engine)\n${table(tasks.rows)}`);
const baseline = quick ? { rows: [], figures: [] } : await againstBaseline();
if (baseline.rows.length > 0) console.log(`\nthis build against ${baselineCommit}\n${table(baseline.rows)}`);
const figures = [...tasks.figures, ...baseline.figures];
console.log(`\n${table(figureRows(figures))}`);
if (publishing()) {
  const path = publish({
    name: 'tasks',
    title: 'Vision tasks: warm cost per task, and what adding them cost classify',
    ...(baselineAt >= 0 ? { command: `npm run bench:tasks -- --baseline ${baselineCommit}` } : {}),
    figures,
    sections: [
      {
        heading: `Warm end to end per task on ${PHOTO}, default engine`,
        text: 'runTask from the call to the result (decode, inference, post-processing), in rotating blocks; each task as a ratio to imagenet classify() in the same run.',
        rows: tasks.rows,
      },
      ...(baseline.rows.length > 0
        ? [
            {
              heading: `This build against ${baselineCommit} (before the tasks), alternating in one run`,
              rows: baseline.rows,
            },
          ]
        : []),
    ],
  });
  console.log(`published ${path}`);
}
