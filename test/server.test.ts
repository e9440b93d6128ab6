import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { overHttp } from './conformance/over-http.js';
import { describeConformance } from './conformance/suite.js';
import { CLI, photo } from './helpers.js';

const MB = 1024 * 1024;
const grace = photo('grace_hopper.jpg');

function post(
  base: string,
  body: Uint8Array,
  headers: Record<string, string> = { 'content-type': 'image/jpeg' },
) {
  return fetch(`${base}/classify`, { method: 'POST', headers, body });
}

async function start(
  flags: Record<string, string>,
  logs: Record<string, unknown>[] = [],
): Promise<RunningServer> {
  const running = await startServer(
    serverConfig({ port: '0', workers: '2', 'max-body': String(6 * MB), ...flags }, {}),
    (event) => logs.push(event),
  );
  await running.ready;
  return running;
}

describe('tflite-fn serve', () => {
  const logs: Record<string, unknown>[] = [];
  let server: RunningServer;
  before(async () => {
    server = await start({}, logs);
  });
  after(() => server.close());

  describeConformance(
    'self-hosted server',
    overHttp(() => server.url),
    { prefix: '', maxBodyBytes: 6 * MB },
  );

  it('is ready once every worker has its models, and says so', async () => {
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', workers: 2 });
    assert.equal(server.pool.pids.length, 2);
    assert.ok(logs.some((l) => l.msg === 'ready' && typeof l.readyMs === 'number'));
    assert.ok(
      logs.some((l) => l.msg === 'listening' && (l.config as { apiKey: string }).apiKey.startsWith('(none')),
    );
  });

  it('logs one JSON line per request with its id, and echoes the id', async () => {
    const response = await post(server.url, grace, {
      'content-type': 'image/jpeg',
      'x-request-id': 'test-123',
    });
    assert.equal(response.headers.get('x-request-id'), 'test-123');
    const line = logs.find((l) => l.requestId === 'test-123');
    assert.ok(line);
    assert.deepEqual([line.method, line.path, line.status], ['POST', '/classify', 200]);
    assert.equal(typeof line.ms, 'number');
    const generated = await fetch(`${server.url}/healthz`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('serves Prometheus metrics: requests by route and status, latency histogram, queue, model load time', async () => {
    await post(server.url, grace);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /tflite_fn_requests_total\{route="\/classify",method="POST",status="200"\} \d+/);
    assert.match(text, /tflite_fn_request_duration_seconds_bucket\{route="\/classify",le="0.1"\} \d+/);
    assert.match(text, /tflite_fn_request_duration_seconds_bucket\{route="\/classify",le="\+Inf"\} \d+/);
    assert.match(text, /tflite_fn_queue_depth \d+/);
    assert.match(text, /tflite_fn_workers_ready 2/);
    assert.match(text, /tflite_fn_bodies_in_flight 0/);
    assert.match(text, /tflite_fn_event_loop_delay_max_seconds \d/);
    assert.match(text, /tflite_fn_model_load_seconds\{model="imagenet"\} \d/);
  });

  it('serves the demo page and the sample photos it offers', async () => {
    const page = await fetch(server.url);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<label for="file">/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.google)/, 'no external resources');
    assert.deepEqual(await (await fetch(`${server.url}/samples`)).json(), ['grace_hopper.jpg']);
    const sample = await fetch(`${server.url}/samples/grace_hopper.jpg`);
    assert.equal(Buffer.compare(Buffer.from(await sample.arrayBuffer()), grace), 0);
    assert.equal((await fetch(`${server.url}/samples/..%2Fpackage.json`)).status, 404);
  });

  it('replaces a killed worker; every request gets an answer, none is dropped', async () => {
    const [victim] = server.pool.pids;
    const requests = Array.from({ length: 24 }, () =>
      post(server.url, grace).then(async (r) => ({ status: r.status, body: await r.text() })),
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    process.kill(victim as number, 'SIGKILL');
    const answers = await Promise.all(requests);
    for (const answer of answers) {
      assert.ok(answer.status === 200 || answer.status === 503, `${answer.status} ${answer.body}`);
      if (answer.status === 200) assert.match(answer.body, /military uniform/);
    }
    for (let i = 0; i < 100 && server.pool.readyWorkers < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.pool.readyWorkers, 2);
    assert.ok(!server.pool.pids.includes(victim as number));
    assert.equal(server.pool.restarts, 1);
    assert.ok(logs.some((l) => l.msg === 'worker exited; starting a new one'));
  });
});

describe('tflite-fn serve: limits and access', () => {
  it('refuses work beyond the queue with 503 and Retry-After, answering everything', async () => {
    const server = await start({ workers: '1', queue: '1' });
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, () => post(server.url, grace)));
      const statuses = answers.map((a) => a.status);
      assert.ok(statuses.includes(200));
      assert.ok(statuses.includes(503));
      assert.ok(statuses.every((s) => s === 200 || s === 503));
      const refused = answers.find((a) => a.status === 503) as Response;
      assert.equal(refused.headers.get('retry-after'), '1');
      const refusal = (await refused.json()) as { error: { code: string; message: string } };
      assert.equal(refusal.error.code, 'overloaded');
      assert.match(refusal.error.message, /busy .*retry/, 'a 503 says why, not "internal error"');
    } finally {
      await server.close();
    }
  });

  it('with an API key: 401 without it, 200 with x-api-key or Bearer; health stays open', async () => {
    const server = await start({ 'api-key': 'sesame', workers: '1' });
    try {
      const denied = await post(server.url, grace);
      assert.equal(denied.status, 401);
      assert.equal(((await denied.json()) as { error: { code: string } }).error.code, 'unauthorized');
      assert.equal(
        (await post(server.url, grace, { 'content-type': 'image/jpeg', 'x-api-key': 'wrong' })).status,
        401,
      );
      assert.equal(
        (await post(server.url, grace, { 'content-type': 'image/jpeg', 'x-api-key': 'sesame' })).status,
        200,
      );
      assert.equal(
        (await post(server.url, grace, { 'content-type': 'image/jpeg', authorization: 'Bearer sesame' }))
          .status,
        200,
      );
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${server.url}/models`)).status, 401);
    } finally {
      await server.close();
    }
  });
});

/** An upload that sends its headers and most of its body, then waits (or is torn down). */
function heldUpload(base: string, declared: number): Promise<ClientRequest> {
  const { hostname, port } = new URL(base);
  const req = httpRequest({
    hostname,
    port,
    path: '/classify',
    method: 'POST',
    headers: { 'content-type': 'image/jpeg', 'content-length': String(declared) },
  });
  req.on('error', () => undefined); // torn down by the test
  // All but the last kilobyte: held open, yet at a pace that would make the deadline.
  req.write(Buffer.alloc(declared - 1024));
  return new Promise((resolve) => req.once('socket', (socket) => socket.once('connect', () => resolve(req))));
}

async function gauge(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1] ?? Number.NaN);
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('tflite-fn serve: hostile bodies', () => {
  const logs: Record<string, unknown>[] = [];
  let server: RunningServer;
  before(async () => {
    // One worker (2 jobs) and a queue of 1: the pool holds 3, so 3 bodies are admitted at once.
    server = await start({ workers: '1', queue: '1', 'max-body': String(32 * MB) }, logs);
  });
  after(() => server.close());

  it('admits bodies before reading them: past the budget, 503 + Retry-After at once, body unread', async () => {
    const held = await Promise.all([1, 2, 3].map(() => heldUpload(server.url, 4 * MB)));
    await until(
      async () => (await gauge(server.url, 'tflite_fn_bodies_in_flight')) === 3,
      'three admitted bodies',
    );
    // Headers only: the answer must come although not one byte of the body is sent.
    const refused = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        const req = httpRequest(
          {
            hostname,
            port,
            path: '/%63lassify',
            method: 'POST',
            headers: { 'content-type': 'image/jpeg', 'content-length': String(32 * MB) },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.flushHeaders();
      },
    );
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers.connection, 'close');
    const { error } = JSON.parse(refused.body) as { error: { code: string; message: string } };
    assert.equal(error.code, 'overloaded');
    assert.match(error.message, /retry/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'probes are not bodies');

    // The clients go away mid-upload: 499 client_closed_request, not a server error.
    for (const req of held) req.destroy();
    await until(
      () => logs.filter((l) => l.msg === 'request' && l.status === 499).length === 3,
      'three 499 lines',
    );
    assert.ok(
      !logs.some((l) => l.level === 'error'),
      JSON.stringify(logs.filter((l) => l.level === 'error')),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /tflite_fn_requests_total\{route="\/classify",method="POST",status="499"\} 3/);
    assert.doesNotMatch(metrics, /status="500"/);
    await until(async () => (await gauge(server.url, 'tflite_fn_bodies_in_flight')) === 0, 'the budget back');
    assert.equal(await gauge(server.url, 'tflite_fn_body_bytes_in_flight'), 0);
    const good = await post(server.url, grace);
    assert.equal(good.status, 200, await good.text());
  });

  it('a body dripping in too slowly to make the deadline is stopped early: 408, its share given back', async () => {
    const { hostname, port } = new URL(server.url);
    const begun = performance.now();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname,
          port,
          path: '/classify',
          method: 'POST',
          headers: { 'content-type': 'image/jpeg', 'content-length': String(8 * MB) },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const drip = setInterval(() => req.write(Buffer.alloc(1024)), 200);
      req.on('close', () => clearInterval(drip));
    });
    assert.equal(answer.status, 408, answer.body);
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'body_too_slow');
    // The deadline is 30 s; the pace is judged after 2 s. A wide margin, not a timing.
    assert.ok(performance.now() - begun < 20_000, 'stopped well before the deadline');
    await until(async () => (await gauge(server.url, 'tflite_fn_bodies_in_flight')) === 0, 'the share back');
  });

  it('30 MB of "[" as JSON → 400 bad_json; 200,000 multipart fields → 413; then a good answer', async () => {
    const nested = new Uint8Array(30 * MB).fill(0x5b);
    const json = await post(server.url, nested, { 'content-type': 'application/json' });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, 'bad_json');
    const part = '--zz\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n';
    const form = new TextEncoder().encode(`${part.repeat(200_000)}--zz--\r\n`);
    const multipart = await post(server.url, form, { 'content-type': 'multipart/form-data; boundary=zz' });
    assert.equal(multipart.status, 413);
    assert.match(((await multipart.json()) as { error: { message: string } }).error.message, /parts/);
    assert.equal((await post(server.url, grace)).status, 200);
  });
});

describe('tflite-fn serve: SIGTERM', () => {
  it('finishes in-flight requests, refuses new ones, exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--workers', '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
        const url = output.match(/"url":"([^"]+)"/)?.[1];
        if (url && output.includes('"msg":"ready"')) resolve(url);
      });
      child.on('exit', () => reject(new Error(output)));
    });
    let answered = 0;
    const inFlight = Array.from({ length: 6 }, () =>
      post(base, grace).then((r) => {
        answered++;
        return r.status;
      }),
    );
    // SIGTERM only once the server holds all six (queued, running or answered): all in flight.
    for (let held = 0; held + answered < 6; ) {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const gauge = (name: string) => Number(metrics.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1] ?? 0);
      held = gauge('tflite_fn_queue_depth') + gauge('tflite_fn_in_flight');
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(inFlight), [200, 200, 200, 200, 200, 200]);
    assert.equal(await exited, 0);
    assert.match(output, /"msg":"draining"/);
    assert.match(output, /"msg":"stopped"/);
    await assert.rejects(fetch(`${base}/healthz`), 'the port is closed');
  });
});

describe('tflite-fn serve --preload: models of any task', () => {
  it('loads the named models of other tasks before ready, and serves their routes from the pool', async () => {
    const logs: Record<string, unknown>[] = [];
    const server = await start({ workers: '1', preload: 'movenet,objects' }, logs);
    try {
      const ready = logs.find((line) => line.msg === 'ready') as { modelLoadMs: Record<string, number> };
      assert.deepEqual(Object.keys(ready.modelLoadMs).sort(), ['movenet', 'objects']);
      const pose = await fetch(`${server.url}/pose`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: grace,
      });
      assert.equal(pose.status, 200, await pose.clone().text());
      assert.equal(((await pose.json()) as { model: string }).model, 'movenet');
    } finally {
      await server.close();
    }
  });
});
