/**
 * Every in-process platform handler, the dev emulator and the server, deployed the way a user
 * deploys a WasmEdge-style program: TFLITE_FN_PROGRAM names a .wasm under programs/. The
 * handlers read it when first loaded, so it is set before any of them is imported (this file
 * runs in its own process).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { describeProgramOnEveryHandler } from './conformance/program-surfaces.js';
import { buildGuest, haveClang, programFixture } from './guests/build.js';
import { tableGrower } from './guests/raw.js';
import { slowBmp } from './guests/slow-image.js';
import { CLI, photo } from './helpers.js';

if (!haveClang() && process.env.CI) throw new Error('clang and wasi-libc are missing: .ci/run installs them');

const skip = haveClang() ? false : 'clang / wasi-libc not installed';
let expected = '';

describe('a deployment serving a wasm program (TFLITE_FN_PROGRAM)', { skip }, async () => {
  if (skip) return;
  // The deployment's folder is a temporary one, and the working folder, so that the relative
  // TFLITE_FN_PROGRAM resolves there as it does in a deployed function.
  const deployment = mkdtempSync(join(tmpdir(), 'tflite-fn-deployment-'));
  const fixture = programFixture(deployment);
  process.chdir(deployment);
  Object.assign(process.env, fixture.env);
  expected = await fixture.answer(photo('grace_hopper.jpg'));
  await describeProgramOnEveryHandler({ expected: () => expected });
});

/** `tflite-fn serve` in a process of its own, serving `program`: the host under test. */
async function serveProgram(program: Uint8Array): Promise<{ url: string; server: ChildProcess }> {
  const file = join(mkdtempSync(join(tmpdir(), 'tflite-fn-served-')), 'program.wasm');
  writeFileSync(file, program);
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--workers', '1'], {
    env: { ...process.env, TFLITE_FN_PROGRAM: file },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let url = '';
  for await (const line of createInterface({ input: server.stdout as NodeJS.ReadableStream })) {
    const event = JSON.parse(line) as { msg?: string; url?: string };
    if (event.msg === 'listening') url = event.url ?? '';
    if (event.msg === 'ready') break;
  }
  server.stdout?.resume();
  return { url, server };
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return;
  server.kill('SIGTERM');
  await once(server, 'exit');
}

describe('a hostile served program does not take the server down (#12)', { skip }, () => {
  it('a program growing its table without end fails on its own; the server keeps answering', async () => {
    const { url, server } = await serveProgram(tableGrower());
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${url}/classify`, { method: 'POST', body: 'x' });
        assert.equal(response.status, 500);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'program_failed');
        assert.match(body.error.message, /the program stopped: unreachable/);
      }
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.equal(server.exitCode, null, 'the server is still running');
    } finally {
      await stopServer(server);
    }
  });

  it('programs kept busy in host calls end at their deadline, and other requests are answered meanwhile', async () => {
    const { url, server } = await serveProgram(readFileSync(buildGuest('hostile')));
    try {
      const finished: string[] = [];
      const post = (name: string, body: Uint8Array) =>
        fetch(`${url}/classify`, { method: 'POST', body }).then(async (response) => {
          finished.push(name);
          return { status: response.status, text: await response.text() };
        });
      const bmp = slowBmp();
      // Four runs decoding a 64-megapixel BMP over and over, each until its 10 s deadline.
      const busy = [1, 2, 3, 4].map((i) => post(`busy ${i}`, bmp));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const normal = await post('normal', photo('grace_hopper.jpg'));
      assert.equal(normal.status, 200, normal.text);
      assert.equal(normal.text, 'decoded: 0\n');
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      const results = await Promise.all(busy);
      for (const result of results) assert.equal(result.status, 504, result.text);
      assert.equal(finished[0], 'normal', `answered in the order ${finished.join(', ')}`);
    } finally {
      await stopServer(server);
    }
  });
});
