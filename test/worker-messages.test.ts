/**
 * How a job travels to a server worker (handlers/server/job-pieces.ts): the IPC channel to a
 * child process copies each message whole (structured clone; it has no transfer list), so a
 * large payload, a task's image or a /v2 job's input tensor, goes ahead in pieces of at most
 * PIECE_BYTES and the job follows, small. Checked with the serializer the channel uses
 * ('advanced' serialization is v8's), and by putting each job back together as a worker does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'node:v8';
import { JobAssembler, jobMessages, PIECE_BYTES } from '../handlers/server/job-pieces.js';
import type { AnyJobMessage } from '../handlers/server/protocol.js';

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
