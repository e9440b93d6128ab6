/**
 * Serving a WasmEdge-style program instead of the built-in classifier (TFLITE_FN_PROGRAM),
 * proven on every platform the way suite.ts proves the built-in one: the request body is the
 * program's stdin, its stdout the response.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpResponseParts } from '../../handlers/dev/lambda-events.js';
import { photo } from '../helpers.js';
import type { Invoke } from './suite.js';

export interface ProgramConformanceOptions {
  /** '' for platforms that route /classify, '/api' where the platform prefixes. */
  readonly prefix: string;
  /** What the program prints for grace_hopper.jpg, run directly in the sandbox. */
  readonly expected: () => string;
}

const text = (response: HttpResponseParts) => new TextDecoder().decode(response.body);

export function describeProgramConformance(
  platform: string,
  invoke: Invoke,
  options: ProgramConformanceOptions,
) {
  const path = `${options.prefix}/classify`;
  const post = (body: Uint8Array, type = 'image/jpeg') =>
    invoke({ method: 'POST', path, headers: { 'content-type': type }, body });

  describe(`${platform}: serving a wasm program`, () => {
    it('POST a photo → exactly what the program prints, as text/plain', async () => {
      const response = await post(new Uint8Array(photo('grace_hopper.jpg')));
      assert.equal(response.status, 200, text(response));
      assert.match(response.headers['content-type'] ?? '', /^text\/plain/);
      assert.equal(text(response), options.expected());
      assert.match(text(response), /^It .* in the picture\n$/);
    });

    it('a body the program cannot use → 500 program_failed with its stderr, no stack; the next request works', async () => {
      const failed = await post(new TextEncoder().encode('not a jpeg'), 'application/octet-stream');
      assert.equal(failed.status, 500, text(failed));
      const error = (JSON.parse(text(failed)) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'program_failed');
      assert.match(error.message, /exited with 2: .*the data is not an image/);
      assert.doesNotMatch(error.message, /\n\s+at /);
      const next = await post(new Uint8Array(photo('grace_hopper.jpg')));
      assert.equal(text(next), options.expected());
    });

    it('an empty body → 400 before the program runs', async () => {
      const response = await invoke({ method: 'POST', path, headers: { 'content-type': 'image/jpeg' } });
      assert.equal(response.status, 400, text(response));
      assert.equal((JSON.parse(text(response)) as { error: { code: string } }).error.code, 'empty_image');
    });

    it('the other routes stay the built-in ones', async () => {
      const health = await invoke({ method: 'GET', path: `${options.prefix}/healthz` });
      assert.equal(health.status, 200, text(health));
    });
  });
}
