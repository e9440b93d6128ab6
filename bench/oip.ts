/**
 * `npm run bench:oip`: issue #15's figure "OIP /infer with a binary UINT8 [1,224,224,3]
 * tensor: overhead over the image route ≤ 1 ms p50", on the self-hosted server over loopback,
 * one request at a time (latency, not throughput).
 *
 *   image route   POST /classify with grace_hopper.jpg already 224x224 (JPEG): the least
 *                 decoding and resizing the image route can do
 *   OIP binary    POST /v2/models/imagenet/infer, the same pixels as a binary UINT8 tensor,
 *                 classification: 5 (the answer the image route gives: the top five)
 *   OIP JSON      the same tensor as JSON numbers (for reference: JSON.parse of 150k numbers)
 *
 * Cases run in rotating blocks so drift on a loaded machine hits all of them alike. A full
 * run publishes docs/benchmarks/oip.md (take it on a quiet machine); --quick runs a few rounds
 * to show the bench works and publishes nothing.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { serverConfig } from '../handlers/server/config.js';
import { startServer } from '../handlers/server/server.js';
import { sharedDataDir } from '../src/store/paths.js';
import { encodeInferRequest } from '../test/oip-client.js';
import { atMost, judged } from './figures.js';
import { publish, publishing } from './publish.js';
import { median, percentile, round, table } from './stats.js';

const quick = process.argv.includes('--quick');
const BLOCKS = quick ? 3 : 30;
const PER_BLOCK = quick ? 5 : 10;
const LIMIT_MS = 1;
const SCORES = 'MobilenetV2/Predictions/Softmax';

interface Case {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  readonly times: number[];
}

function oipBody(
  pixels: Uint8Array,
  binaryInputs: boolean,
): { body: Uint8Array; headers: Record<string, string> } {
  return encodeInferRequest(
    [{ name: 'input', shape: [1, 224, 224, 3], datatype: 'UINT8', values: pixels }],
    [{ name: SCORES, classification: 5 }],
    { binaryInputs },
  );
}

async function timed(url: string, item: Case): Promise<number> {
  const started = performance.now();
  const response = await fetch(url + item.path, {
    method: 'POST',
    headers: item.headers,
    body: item.body as Uint8Array<ArrayBuffer>,
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${item.name}: ${response.status} ${text.slice(0, 200)}`);
  if (!text.includes('military uniform')) throw new Error(`${item.name}: not the expected answer`);
  return ms;
}

async function main(): Promise<void> {
  const photo = join(sharedDataDir(), 'images', 'grace_hopper.jpg');
  const resized = sharp(photo).resize(224, 224, { fit: 'cover' }).removeAlpha();
  const pixels = new Uint8Array(await resized.clone().raw().toBuffer());
  const jpeg = new Uint8Array(await resized.clone().jpeg({ quality: 95 }).toBuffer());
  const binary = oipBody(pixels, true);
  const json = oipBody(pixels, false);
  const cases: Case[] = [
    {
      name: 'image route (224x224 JPEG)',
      path: '/classify',
      headers: { 'content-type': 'image/jpeg' },
      body: jpeg,
      times: [],
    },
    { name: 'OIP binary UINT8', path: '/v2/models/imagenet/infer', ...binary, times: [] },
    { name: 'OIP JSON UINT8', path: '/v2/models/imagenet/infer', ...json, times: [] },
  ];
  const server = await startServer(serverConfig({ port: '0', preload: 'imagenet' }, {}), () => undefined);
  try {
    await server.ready;
    // Warm both paths (the main process loads the model for /v2 on its first request).
    for (const item of cases) for (let i = 0; i < 3; i++) await timed(server.url, item);
    for (let block = 0; block < BLOCKS; block++) {
      for (const item of cases)
        for (let i = 0; i < PER_BLOCK; i++) item.times.push(await timed(server.url, item));
    }
  } finally {
    await server.close();
  }
  const rows = cases.map((item) => ({
    case: item.name,
    requests: item.times.length,
    'p50 ms': round(median(item.times), 2),
    'p99 ms': round(percentile(item.times, 99), 2),
  }));
  console.log(table(rows));
  const overhead = round(median(cases[1]?.times ?? []) - median(cases[0]?.times ?? []), 2);
  console.log(
    `\nOIP binary over the image route, p50: ${overhead} ms (issue #15: ≤ ${LIMIT_MS} ms)${quick ? ' — --quick: too few rounds to judge' : ''}`,
  );
  if (!publishing()) return;
  const file = publish({
    name: 'oip',
    title: 'Open Inference Protocol: the cost of /infer over the image route',
    figuresHeading: 'Against issue #15',
    figures: [judged('OIP binary /infer over the image route, p50', overhead, 'ms', atMost(LIMIT_MS))],
    sections: [
      {
        text: `The self-hosted server over loopback, one request at a time, ${BLOCKS} rotating blocks of ${PER_BLOCK} requests per case. The image route gets grace_hopper.jpg already 224x224 (JPEG), the least decoding and resizing it can do; OIP /v2/models/imagenet/infer gets the same pixels as a UINT8 [1,224,224,3] tensor with classification: 5 (the image route's top five), binary (the binary tensor data extension) or as JSON numbers.`,
      },
      { rows },
    ],
  });
  console.log(`published ${file}`);
}

await main();
