/**
 * Stream figures (issue #8) on a real nats-server: frames/s of 640x480 JPEGs through one and
 * through two `tflite-fn stream` worker processes, and the latency the broker path adds to a
 * classification (publish to result received, minus the worker's own processing time).
 */

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from 'nats';
import sharp from 'sharp';
import { ensureTopology, FRAME_HEADERS, type StreamNames } from '../handlers/stream/broker.js';
import { sharedDataDir } from '../src/store/paths.js';
import { createProgress } from '../src/util/progress.js';
import { NATS_SERVER, startNats, startStreamWorkers } from '../test/nats-server.js';
import { machineLine } from './publish.js';
import { median, round } from './stats.js';

const PHOTOS = ['grace_hopper.jpg', 'hot_dog.jpg', 'owl.jpg', 'parrot.jpg', 'pets.jpg', 'cat_720p.jpg'];

async function frames(): Promise<Buffer[]> {
  const images = join(sharedDataDir(), 'images');
  return Promise.all(
    PHOTOS.map((name) =>
      sharp(readFileSync(join(images, name)))
        .resize(640, 480, { fit: 'cover' })
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
}

/** How a variant's workers run: their engine, and whether one worker takes the whole machine. */
interface WorkerSetup {
  readonly engine: 'auto' | 'litert';
  /** --concurrency 2 and two inference threads, instead of one core's worth per worker. */
  readonly wholeMachine: boolean;
}

function startWorkers(
  count: number,
  url: string,
  subjects: StreamNames,
  setup: WorkerSetup,
): Promise<ChildProcess[]> {
  return startStreamWorkers(
    count,
    url,
    subjects,
    ['--engine', setup.engine, ...(setup.wholeMachine ? ['--concurrency', '2'] : [])],
    setup.wholeMachine ? { ...process.env, TFLITE_FN_THREADS: '2', VIPS_CONCURRENCY: '2' } : process.env,
  );
}

/** Publishes `count` frames, and resolves with each frame's publish-to-result time. */
async function run(nc: NatsConnection, subjects: StreamNames, images: Buffer[], count: number, rate: number) {
  const js = nc.jetstream();
  const sent = new Map<string, number>();
  const latency: { total: number; process: number }[] = [];
  const subscription = nc.subscribe(subjects.output);
  const received = (async () => {
    for await (const message of subscription) {
      const result = JSON.parse(new TextDecoder().decode(message.data)) as {
        frameId: string;
        timings: { processMs: number };
      };
      const at = sent.get(result.frameId);
      if (at !== undefined)
        latency.push({ total: performance.now() - at, process: result.timings.processMs });
      if (latency.length >= count) break;
    }
  })();
  const started = performance.now();
  const tag = Math.random().toString(36).slice(2);
  for (let i = 0; i < count; i++) {
    const frameId = `bench-${tag}#${i}`;
    const h = headers();
    h.set(FRAME_HEADERS.id, frameId);
    h.set(FRAME_HEADERS.source, 'bench');
    sent.set(frameId, performance.now());
    await js.publish(subjects.input, images[i % images.length] as Buffer, { msgID: frameId, headers: h });
    if (rate > 0) {
      const due = started + ((i + 1) * 1000) / rate;
      if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    }
  }
  await received;
  subscription.unsubscribe();
  return { seconds: (performance.now() - started) / 1000, latency };
}

export async function streamBench(frameCount: number) {
  if (!NATS_SERVER) return { skipped: 'nats-server not installed' };
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const images = await frames();
  const progress = createProgress('stream (litert, 1 and 2 workers, latency)', 4);
  try {
    const throughput: Record<string, number> = {};
    const variants: [string, number, WorkerSetup][] = [
      ['litert', 1, { engine: 'litert', wholeMachine: true }],
      ['1', 1, { engine: 'auto', wholeMachine: false }],
      ['2', 2, { engine: 'auto', wholeMachine: false }],
    ];
    for (const [key, workers, setup] of variants) {
      const subjects = {
        input: `bench-${key}`,
        output: `bench-${key}.results`,
        deadLetter: `bench-${key}.dead`,
      };
      await ensureTopology(await nc.jetstreamManager(), subjects);
      const children = await startWorkers(workers, nats.url, subjects, setup);
      await run(nc, subjects, images, 30, 0); // warm-up
      const { seconds } = await run(nc, subjects, images, frameCount, 0);
      throughput[key] = round(frameCount / seconds, 1);
      for (const child of children) child.kill('SIGKILL');
      progress.update(Object.keys(throughput).length);
    }
    // Latency at a gentle rate (10 frames/s: no queueing), one worker.
    const subjects = { input: 'latency', output: 'latency.results', deadLetter: 'latency.dead' };
    await ensureTopology(await nc.jetstreamManager(), subjects);
    const [child] = await startWorkers(1, nats.url, subjects, { engine: 'auto', wholeMachine: false });
    await run(nc, subjects, images, 20, 10);
    const { latency } = await run(nc, subjects, images, 100, 10);
    child?.kill('SIGKILL');
    progress.finish();
    const one = throughput['1'] ?? 0;
    const two = throughput['2'] ?? 0;
    return {
      frame: '640x480 JPEG',
      /** One worker on LiteRT using both cores (--concurrency 2, two threads). */
      oneWorkerLitertFps: throughput.litert ?? 0,
      oneWorkerFps: one,
      twoWorkersFps: two,
      scaling: round(two / one, 2),
      brokerAddedP50Ms: round(median(latency.map((l) => l.total - l.process))),
      endToEndP50Ms: round(median(latency.map((l) => l.total))),
      processP50Ms: round(median(latency.map((l) => l.process))),
    };
  } finally {
    await nc.close();
    nats.stop();
  }
}

// `node dist/bench/stream.js`: this part alone.
if (process.argv[1]?.endsWith(join('bench', 'stream.js')))
  console.log(JSON.stringify({ machine: machineLine(), ...(await streamBench(500)) }));
