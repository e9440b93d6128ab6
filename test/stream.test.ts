/**
 * Stream processing on a real NATS JetStream server, started here on loopback with its store
 * in a temporary folder: frames in, one result per frame out, redelivery when a worker dies,
 * dead letters for frames that cannot succeed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, headers, type JetStreamClient, type NatsConnection } from 'nats';
import { FRAME_HEADERS, namesFor, type StreamNames } from '../handlers/stream/broker.js';
import { FRAME_BODY_OBJECT, openFrameObjects, storeFrame } from '../handlers/stream/frame-objects.js';
import { publishSource } from '../handlers/stream/stream-source.js';
import { type FrameResult, startStreamWorker } from '../handlers/stream/stream-worker.js';
import { classify } from '../src/classify.js';
import { defaultImageLimits } from '../src/image/decode.js';
import { TASKS } from '../src/tasks/index.js';
import { runTask } from '../src/tasks/run.js';
import { CLI, IMAGES, photo } from './helpers.js';
import { NATS_SERVER, startNats, startStreamWorkers } from './nats-server.js';

const haveFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (process.env.CI && (!NATS_SERVER || !haveFfmpeg))
  throw new Error('nats-server and ffmpeg are missing: .ci/run installs them');
const skip = NATS_SERVER ? false : 'nats-server not installed (apt-get install nats-server)';

const quiet = () => undefined;

/** Every message of the results stream, split into results and dead letters. */
async function readResults(nc: NatsConnection, subjects: StreamNames) {
  const jsm = await nc.jetstreamManager();
  const name = namesFor(subjects).results;
  const info = await jsm.streams.info(name);
  const results: FrameResult[] = [];
  const dead: { frameId: string; error: { code: string; message: string } }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(name, { seq });
    const body = JSON.parse(new TextDecoder().decode(message.data));
    if (message.subject === subjects.deadLetter) dead.push(body);
    else results.push(body);
  }
  return { results, dead };
}

async function until<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function folderOf(names: readonly string[], copies = 1): string {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-frames-'));
  for (let copy = 0; copy < copies; copy++)
    for (const name of names) copyFileSync(join(IMAGES, name), join(dir, `${copy}-${name}`));
  return dir;
}

/** Objects still in the frames' object store (deleted ones are not listed). */
async function storedObjects(nc: NatsConnection, subjects: StreamNames): Promise<string[]> {
  const objects = await openFrameObjects(nc.jetstream(), namesFor(subjects).objects);
  return (await objects.list()).map((info) => info.name);
}

/** Top label of each result, by the file name part of its frame id. */
function topLabels(results: readonly FrameResult[]): Record<string, string | undefined> {
  return Object.fromEntries(results.map((r) => [r.frameId.split('#')[1], r.label]));
}

/**
 * kite_and_cold.jpg (1.4 MB: above nats-server's default 1 MB max_payload) has no clear top
 * class (seashore and volleyball within a few points): its result must be what the core
 * answers for the file itself, which shows the bytes arrived whole.
 */
async function directTopLabel(name: string): Promise<string | undefined> {
  return (await classify(readFileSync(join(IMAGES, name)))).top[0]?.label;
}
const GRACE = 'military uniform';
const LADYBUG = 'ladybug, ladybeetle, lady beetle, ladybird, ladybird beetle';

/**
 * A worker killed while it holds frames, without depending on timing: it is stopped (SIGSTOP)
 * once its request for frames is waiting at the broker, the frames are then published — the
 * broker delivers the first to the stopped worker, as its ack-pending count shows — and it is
 * killed; a second worker takes over. Resolves once every frame has a result or dead letter.
 */
async function killWorkerHoldingFrames<T>(
  url: string,
  nc: NatsConnection,
  subjects: StreamNames,
  publish: () => Promise<T>,
  frames: number,
) {
  const jsm = await nc.jetstreamManager();
  const names = namesFor(subjects);
  const consumer = () => jsm.consumers.info(names.frames, names.consumer);
  const flags = ['--ack-wait', '1500'];
  const [victim] = await startStreamWorkers(1, url, subjects, flags);
  let survivor: ChildProcess | undefined;
  try {
    await until('the worker to ask for frames', consumer, (info) => info.num_waiting >= 1);
    victim?.kill('SIGSTOP');
    const sent = await publish();
    await until('the stopped worker to hold a frame', consumer, (info) => info.num_ack_pending >= 1);
    victim?.kill('SIGKILL');
    [survivor] = await startStreamWorkers(1, url, subjects, flags);
    const answers = await until(
      `${frames} results`,
      () => readResults(nc, subjects),
      (r) => r.results.length + r.dead.length >= frames,
      60_000,
    );
    // Every frame acknowledged, so the work queue empties.
    await until(
      'the work queue to empty',
      async () => (await jsm.streams.info(names.frames)).state.messages,
      (left) => left === 0,
    );
    // Deliveries, redeliveries included.
    const deliveries = (await consumer()).delivered.consumer_seq;
    return { ...answers, sent, deliveries, survivor: String(survivor?.pid) };
  } finally {
    victim?.kill('SIGKILL');
    survivor?.kill('SIGKILL');
  }
}

/** Publishes a frame message whose body is a reference (or whatever `reference` is), as a source would. */
async function publishReference(
  js: JetStreamClient,
  subjects: StreamNames,
  frameId: string,
  reference: unknown,
) {
  const h = headers();
  h.set(FRAME_HEADERS.id, frameId);
  h.set(FRAME_HEADERS.body, FRAME_BODY_OBJECT);
  await js.publish(subjects.input, JSON.stringify(reference), { headers: h, msgID: frameId });
}

let subjectCount = 0;
/** Fresh subjects per test, so tests never see each other's frames. */
function freshSubjects(): StreamNames {
  subjectCount++;
  return {
    input: `frames${subjectCount}`,
    output: `results${subjectCount}`,
    deadLetter: `frames${subjectCount}.dead`,
  };
}

describe('stream processing on NATS JetStream', { skip }, () => {
  let nats: { url: string; stop: () => void };
  let nc: NatsConnection;
  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc?.close();
    nats?.stop();
  });

  it('every frame of a folder gets exactly one result, even when the folder is published twice', async () => {
    const subjects = freshSubjects();
    const photos = ['grace_hopper.jpg', 'hot_dog.jpg', 'owl.jpg', 'parrot.jpg', 'pets.jpg', 'cat_720p.jpg'];
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      const folder = folderOf(photos);
      assert.equal(
        (await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 })).published,
        6,
      );
      // Again: the same frame ids within the duplicate window add nothing.
      await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
      const { results } = await until(
        '6 results',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 6,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000)); // would a 7th arrive?
      const final = await readResults(nc, subjects);
      assert.equal(final.results.length, 6);
      assert.equal(new Set(final.results.map((r) => r.frameId)).size, 6);
      const grace = results.find((r) => r.frameId.endsWith('0-grace_hopper'));
      assert.equal(grace?.label, 'military uniform');
      assert.equal(grace?.engine, 'ort');
      assert.equal(grace?.source, folder.split('/').pop());
      assert.ok((grace?.timings.processMs ?? 0) > 0);
    } finally {
      await worker.stop();
    }
  });

  it('--task detect: faces per frame', async () => {
    const subjects = freshSubjects();
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'detect' }, quiet);
    try {
      await publishSource(folderOf(['face.jpg', 'hot_dog.jpg']), {
        server: nats.url,
        ...subjects,
        every: 1,
        rate: 0,
      });
      const { results } = await until(
        '2 results',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 2,
      );
      const faces = Object.fromEntries(
        results.map((r) => [r.frameId.split('#')[1], (r.faces as unknown[] | undefined)?.length]),
      );
      assert.deepEqual(faces, { '0-face': 4, '0-hot_dog': 0 });
      assert.ok(results.every((r) => r.task === 'detect' && r.model === 'faces'));
    } finally {
      await worker.stop();
    }
  });

  it('--task: every task of TASKS, its JSON per frame (with the frame fields and timings)', async () => {
    for (const task of TASKS) {
      const subjects = freshSubjects();
      const worker = await startStreamWorker({ server: nats.url, ...subjects, task: task.id }, quiet);
      try {
        await publishSource(folderOf(['grace_hopper.jpg']), {
          server: nats.url,
          ...subjects,
          every: 1,
          rate: 0,
        });
        const { results } = await until(
          `a ${task.id} result`,
          () => readResults(nc, subjects),
          (r) => r.results.length >= 1,
        );
        const [frame] = results as FrameResult[];
        const direct = await runTask(task, photo('grace_hopper.jpg'), task.parseOptions({}));
        const fields = Object.keys((task.toJson ? task.toJson(direct) : direct) as object);
        for (const field of [...fields, 'frameId', 'source', 'worker', 'delivery'])
          assert.ok(frame && field in frame, `${task.id}: ${field}`);
        assert.equal(frame?.task, task.id);
        assert.equal(frame?.model, direct.model);
        assert.deepEqual(frame?.image, { format: 'jpeg', width: 517, height: 606 });
        assert.ok((frame?.timings.processMs ?? 0) > 0 && 'inferenceMs' in (frame?.timings ?? {}), task.id);
      } finally {
        await worker.stop();
      }
    }
  });

  it('a corrupt frame lands in the dead-letter subject with its error and does not block the rest', async () => {
    const subjects = freshSubjects();
    const folder = folderOf(['grace_hopper.jpg', 'owl.jpg']);
    writeFileSync(join(folder, '0-broken.jpg'), 'this is not a jpeg');
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
      const { results, dead } = await until(
        'two results and one dead letter',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 2 && r.dead.length >= 1,
      );
      assert.deepEqual(
        dead.map((d) => [d.frameId.split('#')[1], d.error.code]),
        [['0-broken', 'unsupported_image']],
      );
      assert.equal(results.length, 2);
      assert.equal(worker.deadLettered(), 1);
      // Terminated, not left for redelivery: the work queue is empty.
      const frames = await (await nc.jetstreamManager()).streams.info(namesFor(subjects).frames);
      assert.equal(frames.state.messages, 0);
    } finally {
      await worker.stop();
    }
  });

  it("a photo above the broker's max_payload goes through the object store, and gets its result", async () => {
    const subjects = freshSubjects();
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      const folder = folderOf(['grace_hopper.jpg', 'kite_and_cold.jpg', 'ladybug.jpg']);
      const sent = await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
      assert.deepEqual(sent, { published: 3, byReference: 1, failed: [] });
      // Again: the duplicate frame message is dropped, and the object stored for it deleted.
      await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
      const { results, dead } = await until(
        '3 results',
        () => readResults(nc, subjects),
        (r) => r.results.length + r.dead.length >= 3,
      );
      assert.deepEqual(dead, []);
      assert.equal(results.length, 3);
      assert.deepEqual(topLabels(results), {
        '0-grace_hopper': GRACE,
        '0-kite_and_cold': await directTopLabel('kite_and_cold.jpg'),
        '0-ladybug': LADYBUG,
      });
      // Deleted once its result is published and the frame acknowledged.
      await until(
        'the object store to empty',
        () => storedObjects(nc, subjects),
        (names) => names.length === 0,
      );
    } finally {
      await worker.stop();
    }
  });

  it('stream-source keeps going past bad files, names each with its reason, and exits 1', async () => {
    const subjects = freshSubjects();
    const folder = folderOf(['grace_hopper.jpg', 'owl.jpg']);
    mkdirSync(join(folder, '0-h-a-folder.jpg')); // listed as an image, cannot be read
    symlinkSync(join(folder, 'gone'), join(folder, '0-i-dangling.jpg'));
    // Sparse: one byte over the largest image a worker accepts, without writing 32 MB.
    writeFileSync(join(folder, '0-j-huge.jpg'), '');
    truncateSync(join(folder, '0-j-huge.jpg'), defaultImageLimits().maxBytes + 1);
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            CLI,
            'stream-source',
            folder,
            '--server',
            nats.url,
            '--in',
            subjects.input,
            '--out',
            subjects.output,
          ],
          (error, _stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stderr }),
        ),
      );
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /published 2 frames/);
      assert.match(run.stderr, /0-h-a-folder\.jpg: .*(directory|not a file)/i);
      assert.match(run.stderr, /0-i-dangling\.jpg: .*(exist|no such)/i);
      assert.match(run.stderr, /0-j-huge\.jpg: .*33554433 bytes.*limit/);
      const { results } = await until(
        '2 results',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 2,
      );
      assert.deepEqual(Object.keys(topLabels(results)).sort(), ['0-grace_hopper', '0-owl']);
    } finally {
      await worker.stop();
    }
  });

  it('a frame reference that is missing, corrupt or foreign is dead-lettered with its reason; the worker goes on', async () => {
    const subjects = freshSubjects();
    const bucket = namesFor(subjects).objects;
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      const js = nc.jetstream();
      const objects = await openFrameObjects(js, bucket);
      const grace = readFileSync(join(IMAGES, 'grace_hopper.jpg'));
      const owl = readFileSync(join(IMAGES, 'owl.jpg'));
      const owlRef = await storeFrame(objects, 'test#owl', owl);
      const graceRef = await storeFrame(objects, 'test#grace', grace);
      const missingRef = await storeFrame(objects, 'test#missing', grace);
      await objects.delete(missingRef.name);
      const frames: [string, unknown][] = [
        ['missing', missingRef],
        ['corrupt', { ...owlRef, digest: graceRef.digest }], // the object is not the frame named
        ['foreign', { ...graceRef, bucket: 'someone-elses-bucket' }],
        ['garbage', 'not a reference'],
        ['good', graceRef],
      ];
      for (const [id, reference] of frames) await publishReference(js, subjects, `test#${id}`, reference);
      const { results, dead } = await until(
        'a result and four dead letters',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 1 && r.dead.length >= 4,
      );
      assert.deepEqual(
        dead.map((d) => [d.frameId, d.error.code]),
        [
          ['test#missing', 'frame_object_missing'],
          ['test#corrupt', 'frame_object_corrupt'],
          ['test#foreign', 'bad_frame_reference'],
          ['test#garbage', 'bad_frame_reference'],
        ],
      );
      assert.match(dead[0]?.error.message ?? '', /expired or was deleted/);
      assert.match(dead[1]?.error.message ?? '', /digest/);
      assert.match(dead[2]?.error.message ?? '', /bucket/);
      assert.deepEqual(topLabels(results), { good: GRACE });
      // The answered frame's object is deleted; the one a corrupt reference named is left to
      // its TTL: a reference that does not match may name another frame's object.
      await until(
        'the answered object to go',
        () => storedObjects(nc, subjects),
        (names) => !names.includes(graceRef.name),
      );
      assert.deepEqual(await storedObjects(nc, subjects), [owlRef.name]);
    } finally {
      await worker.stop();
    }
  });

  it('a stale delivery of a frame another worker already answered is dropped, not dead-lettered', async () => {
    const subjects = freshSubjects();
    const names = namesFor(subjects);
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const consumerInfo = () => jsm.consumers.info(names.frames, names.consumer);
    const [worker] = await startStreamWorkers(1, nats.url, subjects, ['--ack-wait', '1500']);
    try {
      // The worker is stopped with its request for a frame waiting, so it gets delivery 1.
      await until('the worker to ask for frames', consumerInfo, (info) => info.num_waiting >= 1);
      worker?.kill('SIGSTOP');
      const objects = await openFrameObjects(js, names.objects);
      const owl = await storeFrame(objects, 'test#stale', readFileSync(join(IMAGES, 'owl.jpg')));
      await publishReference(js, subjects, 'test#stale', owl);
      await until('the stopped worker to hold it', consumerInfo, (info) => info.num_ack_pending >= 1);
      // Another worker gets delivery 2 once the ack wait runs out, acknowledges the frame and
      // deletes its object, as a worker does after publishing the result.
      const other = await (await js.consumers.get(names.frames, names.consumer)).fetch({
        max_messages: 1,
        expires: 10_000,
      });
      for await (const message of other) {
        assert.equal(message.info.deliveryCount, 2);
        assert.equal(await message.ackAck(), true);
      }
      await objects.delete(owl.name);
      // The stopped worker goes on with its stale delivery: the object is gone, and so is the frame.
      worker?.kill('SIGCONT');
      const h = headers();
      h.set(FRAME_HEADERS.id, 'test#next');
      await js.publish(subjects.input, readFileSync(join(IMAGES, 'grace_hopper.jpg')), {
        headers: h,
        msgID: 'test#next',
      });
      const { results, dead } = await until(
        "the next frame's result",
        () => readResults(nc, subjects),
        (r) => r.results.length + r.dead.length >= 1,
      );
      assert.deepEqual(dead, []);
      assert.deepEqual(topLabels(results), { next: GRACE });
    } finally {
      worker?.kill('SIGKILL');
    }
  });

  it('a video: every 24th frame, cut by ffmpeg, gets a result', {
    skip: haveFfmpeg ? false : 'no ffmpeg',
  }, async () => {
    const subjects = freshSubjects();
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-video-'));
    const video = join(dir, 'camera.mp4');
    // Three seconds of a 24 fps "camera" looking at Grace Hopper: frames 0, 24 and 48.
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-loop',
      '1',
      '-i',
      join(IMAGES, 'grace_hopper.jpg'),
      '-t',
      '3',
      '-r',
      '24',
      '-pix_fmt',
      'yuv420p',
      '-vf',
      'scale=512:600',
      video,
    ]);
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      const { published } = await publishSource(video, { server: nats.url, ...subjects, every: 24, rate: 0 });
      assert.equal(published, 3);
      const { results } = await until(
        '3 results',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 3,
      );
      assert.deepEqual(results.map((r) => r.frameId).sort(), [
        'camera.mp4#0',
        'camera.mp4#24',
        'camera.mp4#48',
      ]);
      assert.ok(results.every((r) => r.label === 'military uniform'));
    } finally {
      await worker.stop();
    }
  });

  it('kill a worker holding frames: they go to another worker, and none is lost', async () => {
    const subjects = freshSubjects();
    const folder = folderOf(['grace_hopper.jpg', 'hot_dog.jpg', 'owl.jpg', 'parrot.jpg'], 15); // 60 frames
    const publish = () => publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
    const { results, dead, deliveries, survivor } = await killWorkerHoldingFrames(
      nats.url,
      nc,
      subjects,
      publish,
      60,
    );
    assert.deepEqual(dead, []);
    assert.equal(results.length, 60, 'one result per frame');
    assert.equal(new Set(results.map((r) => r.frameId)).size, 60);
    assert.ok(
      deliveries > results.length,
      `the dead worker's frames were delivered again (${deliveries} deliveries)`,
    );
    // The stopped worker answered nothing; the frame it held came back on a second delivery.
    assert.ok(results.every((r) => r.worker === survivor));
    assert.ok(results.some((r) => r.delivery > 1));
  });
});

describe('stream processing with a 64 KB max_payload: photos go by reference', { skip }, () => {
  let nats: { url: string; stop: () => void };
  let nc: NatsConnection;
  before(async () => {
    nats = await startNats({ maxPayload: 64 * 1024 });
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc?.close();
    nats?.stop();
  });

  it("small photos go through the object store with correct labels; their objects are deleted, a dead letter's too", async () => {
    const subjects = freshSubjects();
    const worker = await startStreamWorker({ server: nats.url, ...subjects, task: 'classify' }, quiet);
    try {
      // 74 kB and 18 kB: the first is above 64 KB less headers room, the second goes inline.
      const folder = folderOf(['grace_hopper.jpg', 'ladybug.jpg']);
      // And 100 kB that are no image: by reference too, dead-lettered, and its object deleted.
      writeFileSync(join(folder, '0-noise.jpg'), Buffer.alloc(100_000, 0xc0));
      const sent = await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
      assert.deepEqual(sent, { published: 3, byReference: 2, failed: [] });
      const { results, dead } = await until(
        '2 results and a dead letter',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 2 && r.dead.length >= 1,
      );
      assert.deepEqual(topLabels(results), { '0-grace_hopper': GRACE, '0-ladybug': LADYBUG });
      assert.deepEqual(
        dead.map((d) => [d.frameId.split('#')[1], d.error.code]),
        [['0-noise', 'unsupported_image']],
      );
      await until(
        'the object store to empty',
        () => storedObjects(nc, subjects),
        (names) => names.length === 0,
      );
    } finally {
      await worker.stop();
    }
  });

  it('a worker killed while holding by-reference frames: they are redelivered, answered once, and deleted', async () => {
    const subjects = freshSubjects();
    const folder = folderOf(['grace_hopper.jpg', 'hot_dog.jpg', 'owl.jpg', 'parrot.jpg'], 6); // 24 frames
    const publish = () => publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
    const { results, dead, sent, deliveries, survivor } = await killWorkerHoldingFrames(
      nats.url,
      nc,
      subjects,
      publish,
      24,
    );
    assert.deepEqual(sent, { published: 24, byReference: 24, failed: [] });
    assert.deepEqual(dead, []);
    assert.equal(results.length, 24, 'one result per frame');
    assert.equal(new Set(results.map((r) => r.frameId)).size, 24);
    assert.ok(
      deliveries > results.length,
      `the dead worker's frames were delivered again (${deliveries} deliveries)`,
    );
    // The stopped worker answered nothing; the frame it held came back on a second delivery.
    assert.ok(results.every((r) => r.worker === survivor));
    assert.ok(results.some((r) => r.delivery > 1));
    assert.ok(results.every((r) => r.label));
    await until(
      'the object store to empty',
      () => storedObjects(nc, subjects),
      (names) => names.length === 0,
    );
  });
});

describe("stream processing on a broker without room for the frames' object store", { skip }, () => {
  let nats: { url: string; stop: () => void };
  before(async () => {
    // 64 MiB of JetStream storage cannot reserve the 256 MiB bucket.
    nats = await startNats({ maxStoreBytes: 64 * 1024 * 1024 });
  });
  after(() => nats?.stop());

  it("the photo that needs it is reported with the broker's reason; the others are published", async () => {
    const subjects = freshSubjects();
    const folder = folderOf(['grace_hopper.jpg', 'kite_and_cold.jpg', 'ladybug.jpg']);
    const sent = await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
    assert.equal(sent.published, 2);
    assert.equal(sent.byReference, 0);
    assert.deepEqual(
      sent.failed.map((f) => f.file),
      ['0-kite_and_cold.jpg'],
    );
    assert.match(sent.failed[0]?.reason ?? '', /could not open the object store .*256 MiB.*storage/);
  });
});
