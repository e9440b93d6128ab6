import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import autocannon from 'autocannon';
import { chromium } from 'playwright-core';
import { serverConfig } from '../handlers/server/config.js';
import { startServer } from '../handlers/server/server.js';
import { packageRoot } from '../src/store/paths.js';
import { IMAGES, photo } from './helpers.js';

const MB = 1024 * 1024;
const grace = photo('grace_hopper.jpg');
const quiet = () => undefined;

describe('server under load, with faults mixed in (loopback, 5 s)', () => {
  it('answers every bad request with its error while good ones keep succeeding', async () => {
    const server = await startServer(
      serverConfig({ port: '0', workers: '2', queue: '64', 'max-body': String(6 * MB) }, {}),
      quiet,
    );
    try {
      await server.ready;
      const load = autocannon({
        url: `${server.url}/classify`,
        connections: 8,
        duration: 5,
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: grace,
      });
      const faults: { name: string; body: Uint8Array; type: string; status: number }[] = [
        {
          name: 'garbage',
          body: Uint8Array.from({ length: 5000 }, (_, i) => (i * 37) % 256),
          type: 'image/jpeg',
          status: 415,
        },
        { name: 'truncated', body: grace.subarray(0, 30000), type: 'image/jpeg', status: 400 },
        { name: 'oversized', body: new Uint8Array(7 * MB), type: 'image/jpeg', status: 413 },
        { name: 'empty', body: new Uint8Array(0), type: 'image/jpeg', status: 400 },
        { name: 'text', body: new TextEncoder().encode('hello'), type: 'text/plain', status: 415 },
      ];
      const seen: string[] = [];
      const started = Date.now();
      while (Date.now() - started < 4000) {
        for (const fault of faults) {
          const response = await fetch(`${server.url}/classify`, {
            method: 'POST',
            headers: { 'content-type': fault.type },
            body: fault.body,
          });
          assert.equal(response.status, fault.status, fault.name);
          assert.ok(
            ((await response.json()) as { error?: unknown }).error,
            `${fault.name} gets a JSON error`,
          );
          seen.push(fault.name);
        }
      }
      const result = await load;
      assert.ok(seen.length >= faults.length * 3, `faults sent: ${seen.length}`);
      assert.ok(result.requests.total > 50, `good requests: ${result.requests.total}`);
      assert.equal(result.non2xx, 0, 'every good request succeeded');
      assert.equal(result.errors, 0, 'no connection errors');
      assert.equal(server.pool.readyWorkers, 2, 'no worker crashed');
    } finally {
      await server.close();
    }
  });
});

describe('Tencent SCF web function', () => {
  it('scf_bootstrap starts the server on port 9000, on all interfaces', async () => {
    const child = spawn('bash', ['scf_bootstrap'], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TFLITE_FN_WORKERS: '1' },
    });
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk;
          if (output.includes('"msg":"ready"')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      assert.match(output, /"url":"http:\/\/0\.0\.0\.0:9000"/);
      const response = await fetch('http://127.0.0.1:9000/classify', {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: grace,
      });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { label: string }).label, 'military uniform');
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI)
  throw new Error('chromium is missing: .ci/run installs it (apt-get install chromium)');

describe('demo page in a real browser (Debian chromium, headless)', {
  skip: haveBrowser ? false : 'chromium not installed (apt-get install chromium)',
}, () => {
  it('classifies an uploaded photo, shows an error for a text file, and is saved as a screenshot', async () => {
    const server = await startServer(serverConfig({ port: '0', workers: '1' }, {}), quiet);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      await server.ready;
      const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(server.url) && !request.url().startsWith('blob:'))
          external.push(request.url());
      });
      await page.goto(server.url);
      await page.getByLabel('Model').selectOption('imagenet');
      await page
        .getByLabel('Choose a photo, or drop one here')
        .setInputFiles(join(IMAGES, 'grace_hopper.jpg'));
      await page.locator('#sentence').getByText('military uniform').waitFor({ timeout: 15_000 });
      assert.match((await page.locator('#top li').first().textContent()) ?? '', /military uniform/);
      assert.match((await page.locator('#timings').textContent()) ?? '', /inference [\d.]+ ms/);
      assert.ok(await page.locator('#preview').isVisible());
      // A screenshot to look at when this fails; in a temporary folder (tests leave nothing in
      // the working tree), named on stderr.
      const artefacts = mkdtempSync(join(tmpdir(), 'tflite-fn-artifacts-'));
      console.error(`demo page screenshot: ${join(artefacts, 'demo-page.png')}`);
      await page.screenshot({ path: join(artefacts, 'demo-page.png'), fullPage: true });

      const text = join(tmpdir(), 'not-a-photo.txt');
      writeFileSync(text, 'just some text');
      await page.getByLabel('Choose a photo, or drop one here').setInputFiles(text);
      await page
        .locator('#error')
        .getByText(/not an image|not accepted/)
        .waitFor({ timeout: 15_000 });
      assert.ok(await page.locator('#error').isVisible());
      assert.deepEqual(external, [], 'the page loads nothing from outside');

      // A detection model draws a box on every face.
      await page.getByLabel('Model').selectOption('faces');
      await page.getByLabel('Choose a photo, or drop one here').setInputFiles(join(IMAGES, 'face.jpg'));
      await page
        .locator('#sentence')
        .getByText(/\d+ faces in the picture/)
        .waitFor({ timeout: 15_000 });
      assert.ok((await page.locator('#boxes rect').count()) >= 2);
      await page.screenshot({ path: join(artefacts, 'demo-page-faces.png'), fullPage: true });
      await page.getByLabel('Model').selectOption('imagenet');

      // Every task from the picker: its answer (drawn from the JSON, or its picture) appears
      // without an error; a picture chosen in the list replaces the photo at the photo's size.
      const { tasks } = (await (await fetch(`${server.url}/models`)).json()) as {
        tasks: { id: string; model: string; pictures: string[] }[];
      };
      assert.ok(tasks.length >= 2, 'every task is offered');
      await page
        .getByLabel('Choose a photo, or drop one here')
        .setInputFiles(join(IMAGES, 'grace_hopper.jpg'));
      for (const task of tasks) {
        await page.evaluate("document.getElementById('timings').textContent = ''");
        await page.getByLabel('Task').selectOption(task.id);
        assert.equal(
          await page.getByLabel('Model').inputValue(),
          task.model,
          `${task.id}: its default model`,
        );
        await page
          .locator('#timings')
          .getByText(/inference [\d.]+ ms/)
          .waitFor({ timeout: 30_000 });
        assert.ok(
          await page.locator('#error').isHidden(),
          `${task.id}: ${await page.locator('#error').textContent()}`,
        );
        await page.screenshot({ path: join(artefacts, `demo-page-${task.id}.png`), fullPage: true });
        const [picture] = task.pictures;
        if (!picture) continue;
        await page.getByLabel('Picture').selectOption(picture);
        // In the page (a string: this project compiles without the DOM's types).
        await page.waitForFunction(
          "(() => { const p = document.getElementById('preview'); return p.alt.startsWith('The ') && p.complete && p.naturalWidth > 0; })()",
        );
        const size = await page.evaluate(
          "(() => { const p = document.getElementById('preview'); return [p.naturalWidth, p.naturalHeight]; })()",
        );
        assert.deepEqual(size, [517, 606], `${task.id}: the ${picture} picture at the photo's size`);
        await page.screenshot({
          path: join(artefacts, `demo-page-${task.id}-${picture}.png`),
          fullPage: true,
        });
        await page.getByLabel('Picture').selectOption('');
      }
      await page.getByLabel('Task').selectOption('classify');

      // A sample photo chosen by keyboard alone.
      await page.locator('#sample').focus();
      await page.keyboard.press('ArrowDown');
      await page.locator('#sentence').getByText('military uniform').waitFor({ timeout: 15_000 });
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
