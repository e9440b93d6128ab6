import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { startDevServer } from '../handlers/dev/server.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import { overHttp } from './conformance/over-http.js';
import { describeConformance } from './conformance/suite.js';
import { CLI } from './helpers.js';
import { rawRequest } from './raw-http.js';

const lambda = await startDevServer({ platform: 'lambda', port: 0 });
const lambdaV1 = await startDevServer({ platform: 'lambda', port: 0, event: 'api-gateway-v1' });
const vercel = await startDevServer({ platform: 'vercel', port: 0 });
const netlify = await startDevServer({ platform: 'netlify', port: 0 });
after(() => Promise.all([lambda.close(), lambdaV1.close(), vercel.close(), netlify.close()]));

const lambdaLimit = Math.floor((BODY_LIMITS.lambda.maxBytes * 3) / 4);
describeConformance(
  'dev emulator, lambda (HTTP API events)',
  overHttp(() => lambda.url),
  {
    prefix: '',
    maxBodyBytes: lambdaLimit,
  },
);
describeConformance(
  'dev emulator, lambda (REST API events)',
  overHttp(() => lambdaV1.url),
  {
    prefix: '',
    maxBodyBytes: lambdaLimit,
  },
);
describeConformance(
  'dev emulator, vercel',
  overHttp(() => vercel.url),
  {
    prefix: '/api',
    maxBodyBytes: BODY_LIMITS.vercel.maxBytes,
  },
);
describeConformance(
  'dev emulator, netlify',
  overHttp(() => netlify.url),
  {
    prefix: '/api',
    maxBodyBytes: BODY_LIMITS.netlify.maxBytes,
  },
);

const raw = (base: string, path: string, headers: Record<string, string>) =>
  rawRequest(base, { path, headers });

describe('dev emulators: header-derived URLs', () => {
  const emulators = { lambda, lambdaV1, vercel, netlify };
  for (const [name, emulator] of Object.entries(emulators)) {
    it(`${name}: a bad Host header → 400 bad_host, no stack trace; the emulator keeps serving`, async () => {
      for (const host of ['bad host', 'a/b', 'user@x', 'x:99999999', '[zz]']) {
        const answer = await raw(emulator.url, '/healthz', { host });
        assert.equal(answer.status, 400, `${host}: ${answer.body}`);
        assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'bad_host');
        assert.doesNotMatch(answer.body, /\n\s+at |node:/);
      }
      const path = name.startsWith('lambda') ? '/healthz' : '/api/healthz';
      assert.equal((await raw(emulator.url, path, { host: 'localhost:3000' })).status, 200);
    });

    it(`${name}: '//healthz' is a path, not a host name`, async () => {
      const path = name.startsWith('lambda') ? '//healthz' : '//api/healthz';
      const answer = await raw(emulator.url, path, { host: 'localhost' });
      assert.equal(answer.status, 404, answer.body);
    });
  }
});

describe('tflite-fn dev', () => {
  it('prints the URL and a curl line that works, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'dev', '--platform', 'vercel', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const curl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
        const line = output.split('\n').find((l) => l.trim().startsWith('try: curl'));
        if (line) resolve(line.trim().slice('try: '.length));
      });
      child.on('exit', () => reject(new Error(`exited early: ${output}`)));
    });
    assert.match(output, /listening on http:\/\/127\.0\.0\.1:\d+/);
    // Run the printed command itself, with the shell, from the project folder.
    const result = await new Promise<string>((resolve, reject) => {
      const shell = spawn('sh', ['-c', curl], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      shell.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
      });
      shell.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}`))));
    });
    assert.equal((JSON.parse(result) as { label: string }).label, 'military uniform');
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
