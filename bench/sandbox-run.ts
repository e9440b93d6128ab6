/**
 * `npm run bench:sandbox`: the sandbox figures alone (bench/sandbox.ts), checked against the
 * issue's limits. A full (not --quick) run publishes docs/benchmarks/sandbox.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCatalog } from '../src/index.js';
import { sharedDataDir } from '../src/store/paths.js';
import { atMost, type Figure, figureRows, judged, reported } from './figures.js';
import { publish, publishing, type Row } from './publish.js';
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

const rows: Row[] = measured.guests.map((figures) => ({
  guest: figures.guest,
  'engine (guest / built-in)': `${figures.engines} / ${figures.builtinEngine}`,
  'warm guest ms': figures.warmGuestMs,
  'warm built-in ms': figures.warmBuiltinMs,
  'guest / built-in': `${figures.ratio}x`,
  'first run in a new process ms': figures.firstRunMs,
}));

/** Each guest's ratio and first run, judged where an issue set limits for that guest. */
const headline: Figure[] = measured.guests.flatMap(({ guest, ratio, firstRunMs, targets }) => {
  const warm = `${guest}: warm, over the built-in`;
  const first = `${guest}: first run in a new process`;
  if (!targets) return [reported(warm, ratio, 'x'), reported(first, firstRunMs, 'ms')];
  return [
    judged(warm, ratio, 'x', atMost(targets.warmRatio), `issue ${targets.issue}`),
    judged(first, firstRunMs, 'ms', atMost(targets.firstRunMs), `issue ${targets.issue}`),
  ];
});
console.table(rows);
console.table(figureRows(headline));

if (publishing()) {
  const file = publish({
    name: 'sandbox',
    title: 'WebAssembly sandbox: WasmEdge programs against the built-in classifier',
    figures: headline,
    sections: [
      {
        text: `Each program classifies ${PHOTO} with the \`imagenet\` model (MobileNet V2 1.0 224, uint8), stretched to 224x224 as WasmEdge's image loader does; the built-in is classify() of the same model with \`resize: 'fill'\`, on the same engine, in the same process. Warm: the program compiled and its model cached, medians of runs interleaved with the built-in's. First run: \`tflite-fn run [--nn-preload …] PROG.wasm < ${PHOTO}\` in a new process, spawn to first output, median of 3 (the compiled model comes from the on-disk cache set-up filled).`,
      },
      { rows },
    ],
  });
  console.log(`wrote ${file}`);
}
