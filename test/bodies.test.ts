/**
 * Request bodies read with bounded work: the JSON envelope parser gives JSON.parse's values
 * for what clients send and refuses hostile shapes after a few kilobytes; the multipart parser
 * reads what FormData and curl send and refuses forms of too many parts; the body budget
 * admits and refuses by count and bytes, large bodies in their own share.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TfliteFnError } from '../src/errors.js';
import { BodyBudget } from '../src/http/body-budget.js';
import { checkJsonPrefix, parseJsonEnvelope } from '../src/http/json-envelope.js';
import { checkMultipartPrefix, MAX_MULTIPART_PARTS, parseMultipart } from '../src/http/multipart.js';

const MB = 1024 * 1024;
const bytes = (text: string) => new TextEncoder().encode(text);

function refuses(run: () => unknown, status: number, code: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TfliteFnError, String(error));
    assert.deepEqual([error.status, error.code], [status, code], error.message);
    return true;
  });
}

describe('JSON envelopes', () => {
  it('gives the values JSON.parse gives', () => {
    for (const text of [
      '{"image":"AAAA","top":3,"model":"imagenet"}',
      ' \r\n\t{ "image" : "wP/u" , "resize" : "fill" , "n" : -1.5e3 , "ok" : true , "no" : null } \n',
      '{"nested":{"a":[1,2,{"b":null}],"c":[]},"empty":{},"s":"a\\"b\\\\c\\/d\\u00e9\\n"}',
      '{"unicode":"grüße ✓","image":""}',
      '[1,"two",[3]]',
      '"just a string"',
      '42',
    ]) {
      assert.deepEqual(parseJsonEnvelope(bytes(text)), JSON.parse(text), text);
    }
  });

  it('keeps "__proto__" as an own key, as JSON.parse does', () => {
    const value = parseJsonEnvelope(bytes('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('reads a large base64 image with escaped slashes (PHP json_encode style) exactly', () => {
    const image = Buffer.alloc(3 * MB, 0xfb); // base64 of 0xfb... is full of '/'
    const base64 = image.toString('base64');
    const text = `{"image":"${base64.replaceAll('/', '\\/')}","top":2}`;
    const value = parseJsonEnvelope(bytes(text)) as { image: string; top: number };
    assert.equal(value.image, base64);
    assert.equal(value.top, 2);
  });

  it('refuses what is not JSON: 400 bad_json', () => {
    for (const text of [
      '{"image": ',
      '{"a":1,}',
      '{"a" 1}',
      "{'a':1}",
      '{"a":tru}',
      '{} x',
      '{"a":"unterminated}',
      '',
      '{"a":"\\x"}',
    ]) {
      refuses(() => parseJsonEnvelope(bytes(text)), 400, 'bad_json');
    }
    refuses(
      () => parseJsonEnvelope(Uint8Array.of(0x7b, 0x22, 0xc0, 0xff, 0x22, 0x3a, 0x31, 0x7d)),
      400,
      'bad_json',
    );
  });

  it('refuses hostile shapes after a bounded look: deep nesting, many tokens, padding, escape runs', () => {
    refuses(() => parseJsonEnvelope(new Uint8Array(30 * MB).fill(0x5b)), 400, 'bad_json'); // 30 MB of '['
    refuses(() => parseJsonEnvelope(bytes(`{"a":${'['.repeat(9)}${']'.repeat(9)}}`)), 400, 'bad_json');
    refuses(() => parseJsonEnvelope(bytes(`[${'1,'.repeat(100_000)}1]`)), 400, 'bad_json');
    refuses(() => parseJsonEnvelope(bytes(`{${' '.repeat(MB)}}`)), 413, 'payload_too_large');
    refuses(() => parseJsonEnvelope(bytes(`{"a":"${'\\"'.repeat(100_000)}"}`)), 400, 'bad_json');
    refuses(() => parseJsonEnvelope(bytes(`{"a":"${'\\'.repeat(1000)}"}`)), 400, 'bad_json');
  });
});

async function encodeForm(
  entries: [string, string | Blob, string?][],
): Promise<{ body: Uint8Array; type: string }> {
  const form = new FormData();
  for (const [name, value, filename] of entries) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, filename);
  }
  const response = new Response(form);
  return {
    body: new Uint8Array(await response.arrayBuffer()),
    type: response.headers.get('content-type') ?? '',
  };
}

describe('judging the first 64 KB while the rest is on its way', () => {
  it('JSON: refuses what already cannot be, lets a cut-off good start through', () => {
    refuses(() => checkJsonPrefix(new Uint8Array(64 * 1024).fill(0x5b)), 400, 'bad_json');
    refuses(() => checkJsonPrefix(bytes('{"a":1} x')), 400, 'bad_json');
    refuses(() => checkJsonPrefix(bytes(`{${' '.repeat(70_000)}`)), 413, 'payload_too_large');
    const good = `{"top": 3, "model": "imagenet", "image": "${'A'.repeat(70_000)}"}`;
    for (const cut of [1, 5, 10, 12, 20, 40, 1000, good.length - 1]) {
      assert.doesNotThrow(() => checkJsonPrefix(bytes(good.slice(0, cut))), `cut at ${cut}`);
    }
  });

  it('multipart: refuses a start with more boundaries than parts allowed', () => {
    const part = '--zz\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n';
    const type = 'multipart/form-data; boundary=zz';
    refuses(() => checkMultipartPrefix(bytes(part.repeat(1000)), type), 413, 'payload_too_large');
    assert.doesNotThrow(() => checkMultipartPrefix(bytes(`${part.repeat(3)}--zz`), type));
    refuses(() => checkMultipartPrefix(bytes(part), 'multipart/form-data'), 400, 'bad_multipart');
  });
});

describe('multipart/form-data', () => {
  it('reads what FormData sends: the file bytes exactly, the fields as text', async () => {
    const file = Uint8Array.of(0xc0, 0xff, 0xee, 0x0d, 0x0a, 0x2d, 0x2d, 0x00);
    const { body, type } = await encodeForm([
      ['top', '3'],
      ['photo', new Blob([file], { type: 'image/jpeg' }), 'a "quoted" name.jpg'],
      ['model', 'grüße'],
    ]);
    const form = parseMultipart(body, type);
    assert.equal(form.files.length, 1);
    assert.deepEqual(form.files[0]?.bytes, file);
    assert.equal(form.files[0]?.type, 'image/jpeg');
    assert.equal(form.files[0]?.field, 'photo');
    assert.deepEqual({ ...form.fields }, { top: '3', model: 'grüße' });
  });

  it('reads a hand-written body with a preamble, a quoted boundary and an epilogue', () => {
    const text =
      'preamble\r\n--b"x\r\nContent-Disposition: form-data; name="f"; filename="p.png"\r\n' +
      'Content-Type: image/png\r\n\r\nPNGDATA\r\n--b"x\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\nv\r\n--b"x--\r\nepilogue';
    const form = parseMultipart(bytes(text.replaceAll('b"x', 'b-x')), 'multipart/form-data; boundary="b-x"');
    assert.equal(new TextDecoder().decode(form.files[0]?.bytes), 'PNGDATA');
    assert.equal(Object.getOwnPropertyDescriptor(form.fields, '__proto__')?.value, 'v');
  });

  it('refuses malformed bodies with 400 bad_multipart', () => {
    const type = 'multipart/form-data; boundary=zz';
    refuses(() => parseMultipart(bytes('--zz\r\n\r\nno end'), type), 400, 'bad_multipart');
    refuses(() => parseMultipart(bytes('nothing'), type), 400, 'bad_multipart');
    refuses(() => parseMultipart(bytes('--zz--'), 'multipart/form-data'), 400, 'bad_multipart');
    refuses(() => parseMultipart(bytes(`--zz\r\n${'x'.repeat(20_000)}`), type), 400, 'bad_multipart');
  });

  it(`refuses 200,000 fields after ${MAX_MULTIPART_PARTS} parts: 413`, () => {
    const part = '--zz\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n';
    const body = bytes(`${part.repeat(200_000)}--zz--\r\n`);
    refuses(() => parseMultipart(body, 'multipart/form-data; boundary=zz'), 413, 'payload_too_large');
  });
});

describe('body budget', () => {
  const limits = { maxBodies: 4, maxBytes: 96 * MB, largeBody: 6 * MB, maxLargeBytes: 64 * MB };

  it('admits by count and bytes; large bodies share only part, so small ones still fit', () => {
    const budget = new BodyBudget(limits);
    const big = [budget.admit(32 * MB), budget.admit(32 * MB)];
    assert.ok(big.every(Boolean));
    assert.equal(budget.admit(32 * MB), undefined, 'the large share is full');
    const small = budget.admit(1 * MB);
    assert.ok(small, 'an ordinary photo still gets in');
    assert.ok(budget.admit(undefined));
    assert.equal(budget.admit(1), undefined, 'four bodies: full by count');
    big[0]?.release();
    big[0]?.release(); // twice is harmless
    assert.equal(budget.bodies, 3);
    assert.ok(budget.admit(32 * MB));
  });

  it('grows an undeclared body as it arrives, within the same shares', () => {
    const budget = new BodyBudget(limits);
    const chunked = budget.admit(undefined);
    assert.ok(chunked);
    assert.ok(chunked.grow(5 * MB));
    assert.ok(chunked.grow(59 * MB), 'becomes large: 64 MB fits the large share');
    assert.equal(chunked.grow(1), false, 'past the large share');
    chunked.release();
    assert.deepEqual([budget.bodies, budget.bytes], [0, 0]);
  });
});
