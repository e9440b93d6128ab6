import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDirectInvocation } from '../handlers/aws-lambda/lambda.js';
import { createApp, decodeBase64, negotiate } from '../src/http/index.js';
import { BadRequestError } from '../src/index.js';

describe('content negotiation', () => {
  it('gives API clients JSON and browsers the sentence', () => {
    assert.equal(negotiate(undefined), 'json');
    assert.equal(negotiate('*/*'), 'json');
    assert.equal(negotiate('application/json'), 'json');
    assert.equal(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), 'html');
    assert.equal(negotiate('text/plain'), 'text');
    assert.equal(negotiate('text/html;q=0.1, text/plain;q=0.9'), 'text', 'quality wins over order');
    assert.equal(negotiate('application/pdf'), 'json', 'nothing we offer: JSON');
    assert.equal(negotiate('image/png'), 'png', 'the annotated photo, for /detect');
    assert.equal(negotiate('image/*'), 'jpeg');
    assert.equal(negotiate('text/html;q=0, application/json'), 'json', 'q=0 means not acceptable');
  });
});

describe('base64', () => {
  it('decodes standard and URL-safe base64 to the exact bytes, whitespace allowed', () => {
    const bytes = Uint8Array.of(0xc0, 0xff, 0xee, 0x00, 0xfb, 0xff);
    assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes);
    assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64url')), bytes);
    assert.deepEqual(decodeBase64('wP/u\n APv/'), bytes);
  });

  it('refuses what is not base64', () => {
    assert.throws(() => decodeBase64('not base64!'), BadRequestError);
    assert.throws(() => decodeBase64('abcde'), BadRequestError);
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    new Request('https://api.example/api/classify', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });

  it('is off unless configured', async () => {
    const response = await createApp({ corsOrigins: [] }).fetch(preflight('https://a.example'));
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });

  it('allows the listed origins only', async () => {
    const app = createApp({ corsOrigins: ['https://a.example'] });
    const allowed = await app.fetch(preflight('https://a.example'));
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://a.example');
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await app.fetch(preflight('https://b.example'));
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://b.example');
  });

  it('a preflight is told the method the route serves; a 401 still carries the CORS headers', async () => {
    const app = createApp({ corsOrigins: ['https://a.example'], apiKey: 'k' });
    const models = await app.fetch(
      new Request('https://api.example/api/models', {
        method: 'OPTIONS',
        headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' },
      }),
    );
    assert.equal(models.status, 204);
    assert.equal(models.headers.get('access-control-allow-methods'), 'GET,OPTIONS');
    assert.equal(
      (await app.fetch(preflight('https://a.example'))).headers.get('access-control-allow-methods'),
      'POST,OPTIONS',
    );
    const denied = await app.fetch(
      new Request('https://api.example/api/classify', {
        method: 'POST',
        headers: { origin: 'https://a.example' },
      }),
    );
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), 'https://a.example');
  });

  it("'*' allows any origin, from TFLITE_FN_CORS_ORIGINS too", async () => {
    process.env.TFLITE_FN_CORS_ORIGINS = '*';
    try {
      const response = await createApp().fetch(preflight('https://c.example'));
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
    } finally {
      delete process.env.TFLITE_FN_CORS_ORIGINS;
    }
  });
});

describe('Lambda event types', () => {
  it('tells a direct invocation from HTTP events', () => {
    assert.ok(isDirectInvocation({ image: 'AAAA' }));
    assert.ok(!isDirectInvocation({ image: 'AAAA', requestContext: {} }), 'API Gateway and Function URLs');
    assert.ok(!isDirectInvocation({ image: 'AAAA', httpMethod: 'POST' }), 'ALB');
    assert.ok(!isDirectInvocation({ body: 'x' }));
    assert.ok(!isDirectInvocation(null));
  });
});
