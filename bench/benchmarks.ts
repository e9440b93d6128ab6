/**
 * Every benchmark that publishes a page under docs/benchmarks/, in the order the index lists
 * them: its page name, the npm script that runs it and what it measures in words. Targets and
 * figures are not here: each benchmark declares them with its own constants and records them
 * in its result (docs/benchmarks/<name>.json), which the index reads.
 */
export interface Benchmark {
  /** File name under docs/benchmarks/, without .md or .json. */
  readonly name: string;
  /** The npm script (a key of package.json's scripts) that runs it in full. */
  readonly script: string;
  readonly measures: string;
}

export const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'main',
    script: 'bench',
    measures:
      'speed, start-up, accuracy, sizes, server load, sandbox, streams (issues #2 to #8), every figure beside its target',
  },
  {
    name: 'input-cost',
    script: 'bench:inputs',
    measures: 'CPU and memory to decode (or convert) crafted hostile inputs of at most 1 MB',
  },
  {
    name: 'worker-kills',
    script: 'bench:kills',
    measures:
      'random worker kills during load at 8 connections: every request answered, and how soon the pool is at full strength after each kill',
  },
  {
    name: 'tasks',
    script: 'bench:tasks',
    measures:
      "each task's warm end to end time on one photo as a ratio to `imagenet` classify(), and classify() and the CLI cold start against the commit before the tasks (`--baseline REV`), both builds alternating in one run",
  },
  {
    name: 'hostile-load',
    script: 'bench:hostile',
    measures:
      "good requests and `/healthz` while requests of each hostile kind are in flight, and the server's RSS with concurrent 32 MB uploads",
  },
  {
    name: 'sandbox',
    script: 'bench:sandbox',
    measures:
      "the WasmEdge classic over WASI-NN and over the 0.2 ABI, warm against the built-in classify() of the same model on the same engine, and each one's first run in a new process",
  },
  {
    name: 'resize',
    script: 'bench:resize',
    measures:
      '`wasmedge_image` pixels against real Boost.GIL (legacy hosts) and stb_image_resize2 (WasmEdge 0.15) built at bench time: mean and max byte differences, top-1 agreement',
  },
  {
    name: 'batching',
    script: 'bench:batching',
    measures:
      'the engine alone at batch sizes 1-16, then the server with dynamic batching off and on at 1, 8 and 32 connections',
  },
  {
    name: 'oip',
    script: 'bench:oip',
    measures:
      'Open Inference Protocol `/infer` with a binary UINT8 [1,224,224,3] tensor against the image route (a 224x224 JPEG) on the self-hosted server, one request at a time',
  },
  {
    name: 'repository',
    script: 'bench:repository',
    measures:
      'models dropped into a served repository while 8 connections (`--connections N`) send OIP infers: how soon each is ready, and whether any request is answered other than 200',
  },
  {
    name: 'package',
    script: 'bench:package',
    measures: "the npm tarball's size (packed, unpacked, files) against the limit test/package.test.ts holds",
  },
];

export function benchmarkNamed(name: string): Benchmark {
  const found = BENCHMARKS.find((benchmark) => benchmark.name === name);
  if (!found) throw new Error(`no benchmark named '${name}' in bench/benchmarks.ts`);
  return found;
}

/** `npm run <script>`, the command a reader runs again. */
export function commandOf(benchmark: Benchmark): string {
  return `npm run ${benchmark.script}`;
}
