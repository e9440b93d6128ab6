/**
 * The server's worker pool under the faults an operator meets: workers killed (while loading
 * too), a worker stuck past the deadline, a model that never loads. Real worker processes,
 * real signals, real HTTP over loopback.
 *
 * Where a test needs a worker to stay "loading" or "busy" for as long as it likes, it stops
 * the process with SIGSTOP rather than relying on a slow input: a stopped process makes no
 * progress on any machine, so no bound here depends on this machine's speed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { manyScanJpeg } from '../bench/hostile-inputs.js';
import { serverConfig } from '../handlers/server/config.js';
import { WORKER_NICE } from '../handlers/server/pool.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { CLI, photo, SHARED_MODELS } from './helpers.js';

const MB = 1024 * 1024;
const grace = photo('grace_hopper.jpg');
type LogLine = Record<string, unknown>;

/** Answers are awaited with this bound: a request that hangs fails the test instead of stalling it. */
const HANG = 60_000;

function classify(base: string, image: Uint8Array = grace) {
  const begun = performance.now();
  return fetch(`${base}/classify`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: image,
    signal: AbortSignal.timeout(HANG),
  }).then(async (r) => ({
    status: r.status,
    body: await r.text(),
    retryAfter: r.headers.get('retry-after'),
    ms: performance.now() - begun,
  }));
}

/** classify(), with a failed connection as status 0 and its cause (for requests awaited later). */
function classifySettled(base: string, image: Uint8Array = grace) {
  return classify(base, image).catch((error: Error) => ({
    status: 0,
    body: `${error.message}: ${String(error.cause)}`,
    retryAfter: null,
    ms: 0,
  }));
}

async function readyz(base: string) {
  const response = await fetch(`${base}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; workers: number } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, limitMs = HANG): Promise<void> {
  const begun = Date.now();
  while (!condition()) {
    if (Date.now() - begun > limitMs) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/**
 * A server whose log lines go to `logs`; `onStart` sees each worker the pool starts, as it
 * starts (before it can have loaded anything), so a test can kill or stop it while it loads.
 */
async function start(
  flags: Record<string, string>,
  logs: LogLine[],
  onStart: (pid: number) => void = () => undefined,
): Promise<RunningServer> {
  const running = await startServer(
    serverConfig({ port: '0', workers: '2', 'max-body': String(6 * MB), ...flags }, {}),
    (event) => {
      logs.push(event);
      if (event.msg === 'worker starting' && typeof event.pid === 'number') onStart(event.pid);
    },
  );
  await running.ready;
  return running;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('server worker pool: kills', () => {
  it('replaces killed workers, replacements killed while loading too, and returns to full strength', async () => {
    const logs: LogLine[] = [];
    let killWhileLoading = 0;
    const server = await start({}, logs, (pid) => {
      if (killWhileLoading === 0) return;
      killWhileLoading--;
      process.kill(pid, 'SIGKILL'); // it has just been forked: it cannot have loaded yet
    });
    try {
      const first = server.pool.pids;
      killWhileLoading = 3;
      const answers = Array.from({ length: 8 }, () => classify(server.url));
      process.kill(first[0] as number, 'SIGKILL');
      await until('three replacements were killed while loading', () => killWhileLoading === 0);
      for (const answer of await Promise.all(answers)) {
        assert.ok(answer.status === 200 || answer.status === 503, `${answer.status} ${answer.body}`);
      }
      await until('the pool is back to full strength', () => server.pool.readyWorkers === 2);
      const loadingDeaths = logs.filter((l) => l.msg === 'worker exited while loading its models');
      assert.equal(loadingDeaths.length, 3, 'each replacement was seen to die while loading');
      assert.deepEqual(
        loadingDeaths.map((l) => l.retryInMs),
        [100, 200, 400],
        'one slot failing again and again backs off',
      );
      assert.equal(server.pool.restarts, 4);
      assert.ok(!server.pool.pids.includes(first[0] as number));
      assert.deepEqual(await readyz(server.url), { status: 200, body: { status: 'ready', workers: 2 } });
      const after = await classify(server.url);
      assert.equal(after.status, 200, after.body);
      assert.match(after.body, /military uniform/);
    } finally {
      await server.close();
    }
  });

  it('is not ready with no usable worker; a queued request gets 503 by its deadline, not a hang', async () => {
    const logs: LogLine[] = [];
    let holdReplacements = false;
    const held: number[] = [];
    const server = await start({ timeout: '3000' }, logs, (pid) => {
      if (!holdReplacements) return;
      process.kill(pid, 'SIGSTOP'); // "loading" for as long as the test likes
      held.push(pid);
    });
    try {
      holdReplacements = true;
      for (const pid of server.pool.pids) process.kill(pid, 'SIGKILL');
      await until('both replacements are held while loading', () => held.length === 2);
      assert.equal(server.pool.readyWorkers, 0);
      const notReady = await readyz(server.url);
      assert.equal(notReady.status, 503);
      assert.equal(notReady.body.workers, 0);

      const queued = await classify(server.url);
      assert.equal(queued.status, 503, queued.body);
      assert.equal((JSON.parse(queued.body) as { error: { code: string } }).error.code, 'no_workers');
      assert.ok(queued.retryAfter, 'Retry-After is set');
      assert.ok(queued.ms >= 2900, `answered at its 3 s deadline, not before: ${queued.ms} ms`);
      assert.ok(queued.ms < 3000 + 5000, `and not long after: ${queued.ms} ms`);

      holdReplacements = false;
      for (const pid of held) process.kill(pid, 'SIGCONT');
      await until('the held workers finish loading', () => server.pool.readyWorkers === 2);
      assert.deepEqual(await readyz(server.url), { status: 200, body: { status: 'ready', workers: 2 } });
      assert.equal((await classify(server.url)).status, 200);
    } finally {
      for (const pid of held) if (alive(pid)) process.kill(pid, 'SIGCONT');
      await server.close();
    }
  });
});

describe('server worker pool: deadlines', () => {
  it('answers a stuck job 504, recycles its worker, and serves the queued request with no new arrival', async () => {
    const logs: LogLine[] = [];
    // The queued request waits for the stuck worker's replacement to load: it is sent 1 s
    // before the stuck jobs' deadline, so the replacement has 9 s to load (~0.3 s when quiet).
    const timeoutMs = 10_000;
    const server = await start({ workers: '1', timeout: String(timeoutMs) }, logs);
    const [stuck] = server.pool.pids as [number];
    try {
      process.kill(stuck, 'SIGSTOP'); // a job that never ends, on any machine
      let hungAnswered = false;
      const hung = [classify(server.url), classify(server.url)]; // both go to the stuck worker
      void Promise.race(hung).then(() => {
        hungAnswered = true;
      });
      await until('both jobs are on the stuck worker', () => server.pool.inFlight === 2);
      await sleep(timeoutMs - 1000);
      const queuedRequest = classify(server.url);
      await until('it is queued', () => server.pool.queueDepth === 1);
      assert.ok(!hungAnswered, 'it was queued before the stuck jobs timed out');

      for (const answer of await Promise.all(hung)) {
        assert.equal(answer.status, 504, answer.body);
        assert.deepEqual(JSON.parse(answer.body), {
          error: { code: 'timeout', message: `the request took longer than ${timeoutMs} ms` },
        });
        assert.ok(answer.ms < timeoutMs + 5000, `answered by its deadline: ${answer.ms} ms`);
      }
      // Nothing else is sent: the freed capacity alone must move the queue.
      const queued = await queuedRequest;
      assert.equal(queued.status, 200, queued.body);
      assert.match(queued.body, /military uniform/);

      await until('the stuck worker is gone', () => !alive(stuck), 10_000);
      assert.ok(!server.pool.pids.includes(stuck), 'it was replaced');
      assert.equal(server.pool.restarts, 1);
      assert.ok(logs.some((l) => l.pid === stuck && /passed its deadline/.test(String(l.msg))));
    } finally {
      if (alive(stuck)) process.kill(stuck, 'SIGKILL');
      await server.close();
    }
  });
});

describe('server worker pool: stop', () => {
  it('stops even when a worker is hung: it is killed after the grace period', async () => {
    const server = await start({ workers: '1' }, []);
    const [hung] = server.pool.pids as [number];
    process.kill(hung, 'SIGSTOP'); // deaf to the closed channel that normally ends it
    const begun = performance.now();
    await server.close();
    const ms = performance.now() - begun;
    assert.ok(!alive(hung), 'the hung worker is gone');
    assert.ok(ms < 5000 + 10_000, `close() returned in ${ms} ms`);
  });
});

describe('server worker pool: a model that cannot load', () => {
  it('logs why, backs off instead of a crash loop, answers 503, and still shuts down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-broken-'));
    // A model file that is not a TFLite model at all: every worker fails to load it.
    writeFileSync(join(dir, 'broken.tflite'), Buffer.from('this is not a flatbuffer'.repeat(100)));
    copyFileSync(join(SHARED_MODELS, 'imagenet_labels.txt'), join(dir, 'labels.txt'));
    writeFileSync(
      join(dir, 'broken.yaml'),
      'model: { file: broken.tflite }\ninput: { width: 128, height: 128 }\noutput: { labels: { file: labels.txt } }\n',
    );
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--workers', '2', '--preload', 'broken', '--timeout', '5000'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TFLITE_FN_MODELS: dir } },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines: LogLine[] = [];
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk;
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) lines.push({ ...JSON.parse(line), seenAt: Date.now() } as LogLine);
    });
    child.stderr.resume(); // the workers' own reports; the log lines are what we check
    try {
      const begun = Date.now();
      await until('it listens', () => lines.some((l) => l.msg === 'listening'));
      const base = String(lines.find((l) => l.msg === 'listening')?.url);
      const failures = () => lines.filter((l) => /^worker could not load its models: /.test(String(l.msg)));
      await until('both workers failed to load', () => failures().length >= 2);

      const ready = await readyz(base);
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, { status: 'unavailable', workers: 0 });
      const refused = await classify(base);
      assert.equal(refused.status, 503, refused.body);
      const error = (JSON.parse(refused.body) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'no_workers');
      assert.doesNotMatch(error.message, /broken\.tflite|\//, 'no host path reaches the client');
      assert.ok(refused.retryAfter);

      // Let it retry for a while, then count: backoff doubles, so starts grow with the log of time.
      await until('each slot failed four times', () => failures().length >= 8);
      const elapsed = Date.now() - begun;
      const line = failures()[0] as LogLine;
      assert.match(String(line.msg), /broken' \(.*broken\.tflite\) is not a TensorFlow Lite model/);
      assert.equal(line.level, 'error');
      for (const slot of [0, 1]) {
        const delays = failures()
          .filter((l) => l.slot === slot)
          .map((l) => l.retryInMs);
        assert.deepEqual(delays.slice(0, 4), [100, 200, 400, 800], `slot ${slot} backs off`);
      }
      const starts = lines.filter((l) => l.msg === 'worker starting').length;
      const bound = 2 * (2 + Math.log2(elapsed / 100 + 1));
      assert.ok(starts <= bound, `${starts} worker starts in ${elapsed} ms (a crash loop makes hundreds)`);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'SIGTERM still stops it cleanly while it is retrying');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The nice value of every thread of a process (field 19 of /proc/PID/task/TID/stat). */
function threadNiceness(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19 - 3]);
  });
}

describe('server worker pool: lanes', () => {
  // Heavy by its header (decode-cost.ts): 1024x1024 with 170 scans; light: grace_hopper.jpg.
  const heavyImage = manyScanJpeg(1024, 20);

  it('runs heavy jobs on at most workers - 1 workers, alone, and answers light ones meanwhile', async () => {
    const server = await start({ workers: '3' }, []);
    const stopped: number[] = [];
    try {
      const image = await heavyImage;
      // The two heavy-capable workers are frozen first: whatever they are sent stays with them,
      // on any machine, and the state cannot change by itself.
      for (const w of server.pool.workerLoads.filter((load) => load.heavyCapable)) {
        process.kill(w.pid, 'SIGSTOP');
        stopped.push(w.pid);
      }
      const heavyAnswers = Array.from({ length: 6 }, () => classifySettled(server.url, image));
      let mostHeavy = 0;
      const violations: string[] = [];
      const sampler = setInterval(() => {
        const loads = server.pool.workerLoads;
        mostHeavy = Math.max(mostHeavy, loads.filter((w) => w.heavy > 0).length);
        for (const w of loads) {
          const alone = w.heavy === 0 || (w.heavy === 1 && w.light === 0);
          if (!alone || (w.heavy > 0 && !w.heavyCapable)) violations.push(JSON.stringify(w));
        }
      }, 2);

      await until('two heavy jobs are held and four wait', () => server.pool.queueDepth === 4);
      assert.deepEqual(
        server.pool.workerLoads.map((w) => [w.heavy, w.light]),
        [
          [1, 0],
          [1, 0],
          [0, 0],
        ],
        'one heavy job on each heavy-capable worker; the third is kept free while four wait',
      );

      const light = await classify(server.url);
      assert.equal(light.status, 200, light.body);
      assert.match(light.body, /military uniform/);

      for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT');
      const answers = await Promise.all(heavyAnswers);
      clearInterval(sampler);
      for (const answer of answers) assert.equal(answer.status, 200, answer.body);
      assert.deepEqual(violations, [], 'a heavy job runs alone, on a heavy-capable worker');
      assert.equal(mostHeavy, 2, 'heavy jobs ran on workers - 1 = 2 workers at most (and did reach 2)');
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      await server.close();
    }
  });

  it('with one worker, a light job queued behind heavy ones is dispatched before them', async () => {
    const server = await start({ workers: '1' }, []);
    const [only] = server.pool.pids as [number];
    try {
      const lone = Math.max(getPriority(), WORKER_NICE.lightOnly);
      assert.deepEqual(
        new Set(threadNiceness(only)),
        new Set([lone]),
        'a lone worker has no light one to favour',
      );
      const image = await heavyImage;
      const order: string[] = [];
      const track = (name: string, answer: ReturnType<typeof classifySettled>) =>
        answer.then((a) => {
          order.push(name);
          return a;
        });
      const first = track('heavy 1', classifySettled(server.url, image));
      await until('the first heavy job runs', () => server.pool.inFlight === 1);
      process.kill(only, 'SIGSTOP');
      const rest = [
        track('heavy 2', classifySettled(server.url, image)),
        track('heavy 3', classifySettled(server.url, image)),
      ];
      await until('two heavy jobs wait', () => server.pool.queueDepth === 2);
      const light = track('light', classifySettled(server.url));
      await until('the light job waits too', () => server.pool.queueDepth === 3);
      process.kill(only, 'SIGCONT');
      for (const answer of await Promise.all([first, light, ...rest]))
        assert.equal(answer.status, 200, answer.body);
      // Heavy 2 could start only once the light job was answered (it runs alone).
      assert.ok(order.indexOf('light') < order.indexOf('heavy 2'), order.join(', '));
      assert.ok(order.indexOf('light') < order.indexOf('heavy 3'), order.join(', '));
    } finally {
      process.kill(only, 'SIGCONT');
      await server.close();
    }
  });

  it('starts workers niced below the server, heavy-capable ones lower still, every thread', async () => {
    const server = await start({ workers: '3' }, []);
    try {
      const loads = server.pool.workerLoads;
      assert.deepEqual(
        loads.map((w) => w.heavyCapable),
        [true, true, false],
        'slots [0, workers - 1) are heavy-capable',
      );
      const own = getPriority();
      for (const w of loads) {
        const expected = Math.max(own, w.heavyCapable ? WORKER_NICE.heavyCapable : WORKER_NICE.lightOnly);
        const niceness = threadNiceness(w.pid);
        assert.ok(niceness.length > 1, 'the worker has threads');
        assert.deepEqual(new Set(niceness), new Set([expected]), `worker in slot ${w.slot}: ${niceness}`);
      }
      assert.equal(getPriority(), own, 'the server itself keeps its priority');
    } finally {
      await server.close();
    }
  });
});
