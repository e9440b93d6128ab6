/**
 * The server's Dapr pub/sub side, against the request shapes Dapr documents (the CloudEvent
 * envelopes in test/events/dapr) and a loopback stand-in for the sidecar's publish API that
 * records what it receives. The Dapr runtime itself is not installed here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { packageRoot } from '../src/store/paths.js';
import { photo } from './helpers.js';

const FIXTURES = join(packageRoot(), 'test', 'events', 'dapr');

function envelope(name: string, image: Uint8Array): string {
  const text = readFileSync(join(FIXTURES, name), 'utf8');
  return text.replace('REPLACED_BY_THE_TEST', Buffer.from(image).toString('base64'));
}

describe('Dapr pub/sub (app side)', () => {
  const published: { path: string; body: Record<string, unknown> }[] = [];
  let sidecarStatus = 204;
  let sidecar: Server;
  let server: RunningServer;
  before(async () => {
    sidecar = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (sidecarStatus < 300)
          published.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(sidecarStatus).end();
      });
    });
    await new Promise<void>((resolve) => sidecar.listen(0, '127.0.0.1', resolve));
    process.env.DAPR_HTTP_PORT = String((sidecar.address() as AddressInfo).port);
    server = await startServer(serverConfig({ port: '0', workers: '1' }, {}), () => undefined);
    await server.ready;
  });
  after(async () => {
    delete process.env.DAPR_HTTP_PORT;
    await server.close();
    sidecar.close();
  });

  const deliver = async (body: string | Uint8Array, type: string, extra: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}/dapr/frames`, {
      method: 'POST',
      headers: { 'content-type': type, ...extra },
      body,
    });
    assert.equal(response.status, 200, 'Dapr reads the status from a 200 answer');
    return ((await response.json()) as { status: string }).status;
  };

  it('GET /dapr/subscribe names the pubsub, the topic and the route', async () => {
    const response = await fetch(`${server.url}/dapr/subscribe`);
    assert.deepEqual(await response.json(), [
      { pubsubname: 'pubsub', topic: 'frames', route: '/dapr/frames' },
    ]);
  });

  it('a structured CloudEvent with the image in data_base64: SUCCESS, and the result is published', async () => {
    published.length = 0;
    const status = await deliver(
      envelope('cloudevent-binary.json', photo('grace_hopper.jpg')),
      'application/cloudevents+json',
    );
    assert.equal(status, 'SUCCESS');
    assert.equal(published.length, 1);
    assert.equal(published[0]?.path, '/v1.0/publish/pubsub/results');
    assert.equal(published[0]?.body.label, 'military uniform');
    assert.equal(published[0]?.body.eventId, '5929aaac-a5e2-4ca1-859c-edfe73f11565');
    assert.equal(published[0]?.body.source, 'camera-gateway');
  });

  it('a JSON CloudEvent with data.image, and a raw payload (the image as the body): SUCCESS', async () => {
    published.length = 0;
    assert.equal(
      await deliver(
        envelope('cloudevent-json.json', photo('grace_hopper.jpg')),
        'application/cloudevents+json',
      ),
      'SUCCESS',
    );
    assert.equal(
      await deliver(photo('grace_hopper.jpg'), 'image/jpeg', { 'ce-id': 'raw-1', 'ce-source': 'gate' }),
      'SUCCESS',
    );
    assert.deepEqual(
      published.map((p) => [p.body.eventId, p.body.label]),
      [
        ['b1f7c1de-7a43-4a4a-9a77-0e1f8a3f2a10', 'military uniform'],
        ['raw-1', 'military uniform'],
      ],
    );
  });

  it('a bad image, or an event without one: DROP, nothing published', async () => {
    published.length = 0;
    const garbage = new TextEncoder().encode('not an image');
    assert.equal(
      await deliver(envelope('cloudevent-binary.json', garbage), 'application/cloudevents+json'),
      'DROP',
    );
    assert.equal(
      await deliver(
        '{"specversion":"1.0","id":"x","data":{"camera":"line-3"}}',
        'application/cloudevents+json',
      ),
      'DROP',
    );
    assert.equal(await deliver('{not json', 'application/cloudevents+json'), 'DROP');
    assert.equal(published.length, 0);
  });

  it('TFLITE_FN_DAPR_TASK: another task runs on the deliveries and its JSON is published', async () => {
    published.length = 0;
    process.env.TFLITE_FN_DAPR_TASK = 'detect';
    const detecting = await startServer(
      serverConfig({ port: '0', workers: '1', preload: 'faces' }, {}),
      () => {},
    );
    try {
      await detecting.ready;
      const response = await fetch(`${detecting.url}/dapr/frames`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'ce-id': 'faces-1' },
        body: photo('grace_hopper.jpg'),
      });
      assert.deepEqual(await response.json(), { status: 'SUCCESS' });
      assert.equal(published.length, 1);
      assert.equal(published[0]?.body.eventId, 'faces-1');
      assert.equal(published[0]?.body.model, 'faces');
      assert.equal((published[0]?.body.faces as unknown[] | undefined)?.length, 1);
    } finally {
      delete process.env.TFLITE_FN_DAPR_TASK;
      await detecting.close();
    }
  });

  it('an unknown TFLITE_FN_DAPR_TASK stops the server at start, naming the tasks', async () => {
    process.env.TFLITE_FN_DAPR_TASK = 'nope';
    try {
      await assert.rejects(
        startServer(serverConfig({ port: '0', workers: '1' }, {}), () => {}),
        /unknown task 'nope'; tasks: classify, detect/,
      );
    } finally {
      delete process.env.TFLITE_FN_DAPR_TASK;
    }
  });

  it('a sidecar that cannot publish: RETRY (the frame is delivered again later)', async () => {
    sidecarStatus = 500;
    try {
      assert.equal(await deliver(photo('grace_hopper.jpg'), 'image/jpeg'), 'RETRY');
    } finally {
      sidecarStatus = 204;
    }
  });
});
