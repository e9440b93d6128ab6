/**
 * How a job travels to a server worker (handlers/server/job-pieces.ts): the IPC channel to a
 * child process copies each message whole (structured clone; it has no transfer list), so a
 * large payload, a task's image or a /v2 job's input tensor, goes ahead in pieces of at most
 * PIECE_BYTES and the job follows, small. Checked with the serializer the channel uses
 * ('advanced' serialization is v8's), and by putting each job back together as a worker does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serialize } from 'node:v8';
import sharp from 'sharp';
import { serverConfig } from '../handlers/server/config.js';
import { JobAssembler, jobMessages, PIECE_BYTES } from '../handlers/server/job-pieces.js';
import type { AnyJobMessage } from '../handlers/server/protocol.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { photo } from './helpers.js';
import { infer } from './oip-client.js';

const MB = 1024 * 1024;

function filled<T extends Uint8Array | Float32Array | Int32Array>(array: T): T {
  for (let i = 0; i < array.length; i++) array[i] = (i * 7919) % 251;
  return array;
}

/** Sends `job` as the server does and assembles it as a worker does; returns what arrived. */
function travel(job: AnyJobMessage): { arrived: AnyJobMessage; largest: number; messages: number } {
  const assembler = new JobAssembler();
  let largest = 0;
  let messages = 0;
  let arrived: AnyJobMessage | undefined;
  for (const message of jobMessages(job)) {
    messages++;
    // What the channel writes for it: v8's serialization of the message.
    largest = Math.max(largest, serialize(message).length);
    if (message.type === 'chunk') assembler.add(message);
    else arrived = assembler.complete(message);
  }
  assert.ok(arrived, 'the job itself came last');
  return { arrived, largest, messages };
}

describe('jobs to a server worker', () => {
  it("a /v2 job's large input tensors go in pieces; the worker gets them back whole, with their types", () => {
    const job: AnyJobMessage = {
      type: 'tensors',
      id: 7,
      model: 'm',
      modelVersion: '1',
      inputs: [
        filled(new Float32Array((3 * MB) / 4 + 5)),
        filled(new Uint8Array(300)),
        filled(new Int32Array(MB)),
      ],
    };
    const { arrived, largest, messages } = travel(job);
    assert.ok(largest <= PIECE_BYTES + 1024, `no message over a piece (largest ${largest} bytes)`);
    assert.ok(messages >= 8, `the 7 MB went in pieces (${messages} messages)`);
    assert.deepEqual(arrived, job);
  });

  it("a task job's large image goes in pieces too; small jobs go as they are", () => {
    const image = filled(new Uint8Array(2.5 * MB));
    const job: AnyJobMessage = { type: 'job', id: 3, task: 'classify', options: {}, image };
    const { arrived, largest } = travel(job);
    assert.ok(largest <= PIECE_BYTES + 1024);
    assert.deepEqual(arrived, job);
    const small: AnyJobMessage = {
      type: 'tensors',
      id: 9,
      model: 'm',
      modelVersion: '1',
      inputs: [filled(new Float32Array(1000))],
    };
    assert.deepEqual([...jobMessages(small)], [small]);
  });

  it('jobs interleaved between the pieces of another are each put back together', () => {
    const big: AnyJobMessage = {
      type: 'tensors',
      id: 1,
      model: 'm',
      modelVersion: '1',
      inputs: [filled(new Float32Array(MB))],
    };
    const other: AnyJobMessage = { ...big, id: 2, inputs: [filled(new Uint8Array(2 * MB + 1))] };
    const assembler = new JobAssembler();
    const arrived: AnyJobMessage[] = [];
    const streams = [[...jobMessages(big)], [...jobMessages(other)]];
    while (streams.some((stream) => stream.length > 0))
      for (const stream of streams) {
        const message = stream.shift();
        if (!message) continue;
        if (message.type === 'chunk') assembler.add(message);
        else arrived.push(assembler.complete(message));
      }
    assert.deepEqual(
      arrived.sort((a, b) => a.id - b.id),
      [big, other],
    );
  });
});

describe('a /v2 request whose tensor goes in pieces, on a real server', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(serverConfig({ port: '0', workers: '1' }, {}), () => undefined);
    await server.ready;
  });
  after(() => server.close());

  it('a batch of 8 photos (1.2 MB of UINT8) gets each photo its own answer', async (t) => {
    const names = ['grace_hopper.jpg', 'pets.jpg', 'food.jpg', 'parrot.jpg'];
    const metadata = (await (await fetch(`${server.url}/v2/models/imagenet`)).json()) as {
      inputs: { shape: number[] }[];
    };
    if (metadata.inputs[0]?.shape[0] !== -1) {
      // Only where the workers' engine runs batches (onnxruntime with a verified conversion).
      t.skip('imagenet runs one item per call here');
      return;
    }
    const size = 224 * 224 * 3;
    const pixels = await Promise.all(
      names.map(async (name) =>
        sharp(photo(name)).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer(),
      ),
    );
    const run = async (items: Buffer[]) => {
      const values = new Uint8Array(size * items.length);
      items.forEach((item, i) => {
        values.set(item, i * size);
      });
      const input = { name: 'input', shape: [items.length, 224, 224, 3], datatype: 'UINT8', values } as const;
      const answer = await infer(server.url, 'imagenet', [input], { binaryInputs: true });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      const scores = (answer.outputs[0]?.values ?? []) as number[];
      return items.map((_, i) => {
        const row = scores.slice(i * 1001, (i + 1) * 1001);
        return row.indexOf(Math.max(...row));
      });
    };
    const alone = await Promise.all(pixels.map((item) => run([item]).then(([top]) => top)));
    const eight = [...pixels, ...pixels];
    assert.ok(eight.length * size > PIECE_BYTES, 'the tensor is over a piece');
    assert.deepEqual(await run(eight), [...alone, ...alone]);
  });
});
