/**
 * `npm run bench:sandbox`: the sandbox figures alone (bench/sandbox.ts), checked against the
 * issue's limits. A full (not --quick) run publishes docs/benchmarks/sandbox.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCatalog } from '../src/index.js';
import { sharedDataDir } from '../src/store/paths.js';
import { publish, type Row } from './publish.js';
import { sandbox } from './sandbox.js';

const quick = process.argv.includes('--quick');
const PHOTO = 'grace_hopper.jpg';
const photo = readFileSync(join(sharedDataDir(), 'images', PHOTO));
const catalog = new ModelCatalog();
const measured = await sandbox(photo, catalog, quick ? 10 : 60);
await catalog.dispose();
if ('skipped' in measured) {
  console.log(`sandbox: skipped (${measured.skipped})`);
  process.exit(0);
}

/** `figure (target: met?)`, or the figure alone where no issue set a limit for this guest. */
const against = (figure: string, limit: number | undefined, met: boolean, unit: string) =>
  limit === undefined ? figure : `${figure} (target ≤ ${limit}${unit}: ${met ? 'met' : 'NOT met'})`;
const rows: Row[] = measured.guests.map((figures) => ({
  guest: figures.guest,
  'engine (guest / built-in)': `${figures.engines} / ${figures.builtinEngine}`,
  'warm guest ms': figures.warmGuestMs,
  'warm built-in ms': figures.warmBuiltinMs,
  'guest / built-in': against(
    `${figures.ratio}x`,
    figures.targets?.warmRatio,
    figures.ratio <= (figures.targets?.warmRatio ?? 0),
    'x',
  ),
  'first run in a new process ms': against(
    String(figures.firstRunMs),
    figures.targets?.firstRunMs,
    figures.firstRunMs <= (figures.targets?.firstRunMs ?? 0),
    ' ms',
  ),
  'limits from': figures.targets?.issue ?? '-',
}));
console.table(rows);

if (!quick) {
  const file = publish({
    name: 'sandbox',
    title: 'WebAssembly sandbox: WasmEdge programs against the built-in classifier',
    command: 'npm run bench:sandbox',
    sections: [
      {
        text: `Each program classifies ${PHOTO} with the \`imagenet\` model (MobileNet V2 1.0 224, uint8), stretched to 224x224 as WasmEdge's image loader does; the built-in is classify() of the same model with \`resize: 'fill'\`, on the same engine, in the same process. Warm: the program compiled and its model cached, medians of runs interleaved with the built-in's. First run: \`tflite-fn run [--nn-preload …] PROG.wasm < ${PHOTO}\` in a new process, spawn to first output, median of 3 (the compiled model comes from the on-disk cache set-up filled).`,
      },
      { rows },
    ],
  });
  console.log(`wrote ${file}`);
}
