/**
 * Stream processing on a real NATS JetStream server, started here on loopback with its store
 * in a temporary folder: frames in, one result per frame out, redelivery when a worker dies,
 * dead letters for frames that cannot succeed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { namesFor, type StreamNames } from '../handlers/stream/broker.js';
import { publishSource } from '../handlers/stream/stream-source.js';
import { type FrameResult, startStreamWorker } from '../handlers/stream/stream-worker.js';
import { IMAGES } from './helpers.js';
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
      assert.equal(grace?.labels?.[0]?.label, 'military uniform');
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
      const faces = Object.fromEntries(results.map((r) => [r.frameId.split('#')[1], r.faces?.length]));
      assert.deepEqual(faces, { '0-face': 4, '0-hot_dog': 0 });
      assert.ok(results.every((r) => r.task === 'detect' && r.model === 'faces'));
    } finally {
      await worker.stop();
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
      assert.ok(results.every((r) => r.labels?.[0]?.label === 'military uniform'));
    } finally {
      await worker.stop();
    }
  });

  it('kill a worker mid-stream: its unacknowledged frames go to the other, and none is lost', async () => {
    const subjects = freshSubjects();
    const folder = folderOf(['grace_hopper.jpg', 'hot_dog.jpg', 'owl.jpg', 'parrot.jpg'], 15); // 60 frames
    const workers = await startStreamWorkers(2, nats.url, subjects, ['--ack-wait', '1500']);
    try {
      await publishSource(folder, { server: nats.url, ...subjects, every: 1, rate: 0 });
      await until(
        'some results',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 6,
      );
      const victim = workers[0] as ChildProcess;
      victim.kill('SIGKILL');
      const { results, dead } = await until(
        '60 results',
        () => readResults(nc, subjects),
        (r) => r.results.length >= 60,
        60_000,
      );
      assert.equal(dead.length, 0);
      assert.equal(results.length, 60, 'one result per frame');
      assert.equal(new Set(results.map((r) => r.frameId)).size, 60);
      const byWorker = new Set(results.map((r) => r.worker));
      assert.equal(byWorker.size, 2, 'both workers took frames before one died');
      const redelivered = results.filter((r) => r.delivery > 1);
      assert.ok(redelivered.length >= 1, 'the dead worker held frames, and they were redelivered');
      assert.ok(redelivered.every((r) => r.worker === String(workers[1]?.pid)));
    } finally {
      for (const worker of workers) worker.kill('SIGKILL');
    }
  });
});
