import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { handler } from '../handlers/aws-lambda/index.js';
import { buildLambdaEvent, LAMBDA_EVENT_KINDS, lambdaResultToHttp } from '../handlers/dev/lambda-events.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import type { Classification } from '../src/index.js';
import { packageRoot } from '../src/store/paths.js';
import { describeConformance } from './conformance/suite.js';
import { photo } from './helpers.js';

const EVENTS = join(packageRoot(), 'test', 'events', 'aws-lambda');

function fixture(name: string): object {
  return JSON.parse(readFileSync(join(EVENTS, `${name}.json`), 'utf8')) as object;
}

for (const kind of LAMBDA_EVENT_KINDS) {
  const template = fixture(kind);
  describeConformance(
    `AWS Lambda (${kind})`,
    async (request) => {
      const event = buildLambdaEvent(
        kind,
        {
          method: request.method,
          path: request.path,
          query: request.query ?? '',
          headers: request.headers ?? {},
          body: request.body ?? new Uint8Array(0),
        },
        template,
      );
      // The event travels as JSON, as it does from AWS to the runtime.
      const result = await handler(JSON.parse(JSON.stringify(event)));
      return lambdaResultToHttp(result as Parameters<typeof lambdaResultToHttp>[0]);
    },
    // Lambda counts the event as it arrives: the base64 of a binary body.
    { prefix: '', maxBodyBytes: Math.floor((BODY_LIMITS.lambda.maxBytes * 3) / 4) },
  );
}

describe('AWS Lambda: direct invocation', () => {
  it('{"image": base64} → the classification as JSON', async () => {
    const event = { ...fixture('direct'), image: photo('grace_hopper.jpg').toString('base64') };
    const result = (await handler(event as never)) as Classification;
    assert.equal(result.label, 'military uniform');
    assert.equal(result.top.length, 3);
  });

  it('errors come back as {error, status}, not as a thrown Lambda error', async () => {
    const result = (await handler({ image: Buffer.from('not an image').toString('base64') } as never)) as {
      error: { code: string };
      status: number;
    };
    assert.deepEqual([result.status, result.error.code], [415, 'unsupported_image']);
    const bad = (await handler({ image: '%%%' } as never)) as { status: number; error: { code: string } };
    assert.deepEqual([bad.status, bad.error.code], [400, 'bad_base64']);
  });
});
