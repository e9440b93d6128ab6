/**
 * The route table (src/http/routes.ts) against what is actually served: every route the apps
 * register is in the table and every table route is registered; with an API key, every route
 * and every way of spelling its path is refused without the key unless the table marks it open.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import { parse as parseYaml } from 'yaml';
import { serverConfig } from '../handlers/server/config.js';
import { type RunningServer, startServer } from '../handlers/server/server.js';
import { gatewayPath, stalePlatformFiles } from '../scripts/platform-routes.js';
import { readmeWithTasks } from '../scripts/readme-tasks.js';
import { createApp } from '../src/http/app.js';
import { ROUTES, type RouteSpec, UNMATCHED_LABEL } from '../src/http/routes.js';
import { packageRoot } from '../src/store/paths.js';
import { TASKS } from '../src/tasks/index.js';
import { photo } from './helpers.js';
import { rawRequest } from './raw-http.js';

const TABLE = ROUTES as readonly RouteSpec[];
/** What the docs (README, the server guide and the reference) document as open with a key set. */
const DOCUMENTED_OPEN = [
  '/',
  '/healthz',
  '/api/healthz',
  '/readyz',
  '/samples',
  '/samples/:name',
  ...['', '/api'].flatMap((prefix) => [
    `${prefix}/v2/health/live`,
    `${prefix}/v2/health/ready`,
    `${prefix}/v2/models/:name/ready`,
    `${prefix}/v2/models/:name/versions/:version/ready`,
  ]),
];

/** Registered path patterns of an app, middleware ('*', '/*') left out. */
function registeredPaths(app: Hono): Set<string> {
  return new Set(app.routes.map((route) => route.path).filter((path) => path !== '*' && path !== '/*'));
}

function tablePaths(surfaces: readonly RouteSpec['surface'][]): Set<string> {
  return new Set(TABLE.filter((route) => surfaces.includes(route.surface)).flatMap((route) => route.paths));
}

/** A concrete path for a pattern (`/samples/:name` → a sample that exists, a model's → imagenet). */
const concrete = (pattern: string) =>
  pattern.includes('/v2/models/')
    ? pattern.replace(':name', 'imagenet').replace(':version', '1')
    : pattern.replace(':name', 'grace_hopper.jpg');

/** Ways of writing a path that a router or a proxy may read differently. */
function spellings(path: string): string[] {
  const [first = '', ...rest] = path.slice(1);
  if (!first) return [path, '/%2e/', '//'];
  const hex = (char: string) => `%${char.charCodeAt(0).toString(16)}`;
  const lastSlash = path.lastIndexOf('/');
  const tail = path.slice(lastSlash + 1);
  return [
    path,
    `/${hex(first)}${rest.join('')}`, // /%63lassify
    `/${hex(first).toUpperCase()}${rest.join('')}`,
    path.replace(/[a-z]/g, (char) => hex(char)), // every letter encoded
    `${path.slice(0, lastSlash + 1)}${hex(tail[0] ?? 'x')}${tail.slice(1)}`,
    `${path}/`,
    `/${path}`,
    path.toUpperCase(),
    `/api/..${path}`,
    `/api/%2e%2e${path}`,
    `/.${path}`,
    `/${path.slice(1).replaceAll('/', '%2f')}`,
    `${path}?x=1`,
    `${path};x=1`,
  ];
}

describe('route table', () => {
  it('the platform app registers exactly the table routes for every platform', () => {
    assert.deepEqual(registeredPaths(createApp({ corsOrigins: [] })), tablePaths(['every']));
  });

  it('is deny by default: only the documented routes are open, and none of them runs a model', () => {
    const open = TABLE.filter((route) => route.open).flatMap((route) => route.paths);
    assert.deepEqual(open.sort(), [...DOCUMENTED_OPEN].sort());
    for (const route of TABLE.filter((r) => r.open)) assert.notEqual(route.does, 'inference', route.id);
    const docs = ['README.md', 'docs/self-hosted-server.md', 'docs/reference.md']
      .map((file) => readFileSync(join(packageRoot(), file), 'utf8'))
      .join('\n');
    for (const path of DOCUMENTED_OPEN) assert.ok(docs.includes(`\`${path}\``), `the docs name ${path}`);
  });

  it('every task of TASKS has its route on every platform: POST /<id> and /api/<id>, label /<id>, key needed', () => {
    for (const task of TASKS) {
      const route = TABLE.find((candidate) => candidate.task === task.id);
      assert.ok(route, `${task.id} has a route`);
      assert.deepEqual(
        [route.method, route.paths, route.label, route.surface, route.does, route.open],
        ['POST', [`/${task.id}`, `/api/${task.id}`], `/${task.id}`, 'every', 'inference', undefined],
      );
    }
    assert.equal(TABLE.filter((route) => route.task).length, TASKS.length, 'no task route without its task');
  });

  it('ids, paths and labels are unique; labels are few', () => {
    const ids = TABLE.map((route) => route.id);
    const paths = TABLE.flatMap((route) => route.paths);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(new Set(paths).size, paths.length);
    assert.ok(!TABLE.some((route) => route.label === UNMATCHED_LABEL));
  });

  describe('platform configs', () => {
    const root = packageRoot();
    const read = (path: string) => readFileSync(join(root, path), 'utf8');
    const platform = TABLE.filter((route) => route.surface === 'every');
    const pairs = new Set(
      platform.flatMap((route) => route.paths.map((path) => `${route.method} ${gatewayPath(path)}`)),
    );

    it('are what `npm run routes:sync` writes from the table', () => {
      const stale = stalePlatformFiles(root).map((file) => file.path);
      assert.deepEqual(stale, [], `${stale.join(', ')} differ from the route table: run npm run routes:sync`);
    });

    it('a table with one route more or one less makes every config stale (the check can fail)', () => {
      const extra: RouteSpec = {
        ...(platform[0] as RouteSpec),
        id: 'extra',
        paths: ['/extra', '/api/extra'],
      };
      const grown = stalePlatformFiles(root, [...platform, extra]).map((file) => file.path);
      for (const path of ['serverless.yml', 'netlify/functions/classify.mts', 'vercel.json', 'api/extra.ts'])
        assert.ok(grown.includes(path), `${path} is stale for a table with /extra: ${grown.join(', ')}`);
      const shrunk = stalePlatformFiles(root, platform.slice(1)).map((file) => file.path);
      const gone = (platform[0] as RouteSpec).paths.find((path) => path.startsWith('/api/')) as string;
      for (const path of ['serverless.yml', 'netlify/functions/classify.mts', `${gone.slice(1)}.ts`])
        assert.ok(
          shrunk.includes(path),
          `${path} is stale for a table without ${gone}: ${shrunk.join(', ')}`,
        );
    });

    it("the README's task table is TASKS: one task fewer makes it stale (the check can fail)", () => {
      const readme = read('README.md');
      assert.equal(readmeWithTasks(readme), readme, 'README.md differs from TASKS: run npm run routes:sync');
      for (const task of TASKS) assert.match(readme, new RegExp(`\\| \`${task.id}\` \\|`));
      assert.notEqual(readmeWithTasks(readme, TASKS.slice(1)), readme);
    });

    it("serverless.yml's httpApi events are the table's platform routes, methods included", () => {
      // CloudFormation's !Ref is a tag the YAML library does not know; read it as { Ref }.
      const ref = { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) };
      const config = parseYaml(read('serverless.yml'), { customTags: [ref] }) as {
        functions: Record<string, { events?: { httpApi?: string }[] }>;
      };
      const events = Object.values(config.functions).flatMap((fn) =>
        (fn.events ?? []).map((event) => event.httpApi),
      );
      assert.equal(new Set(events).size, events.length, 'no event twice');
      assert.deepEqual(new Set(events), pairs);
    });

    it("Netlify's config.path is every platform path, and its methods the table's", () => {
      const source = read('netlify/functions/classify.mts');
      const literal = (key: string) =>
        [...(source.match(new RegExp(`${key}: \\[([^\\]]*)\\]`))?.[1] ?? '').matchAll(/'([^']+)'/g)].map(
          (m) => m[1],
        );
      assert.deepEqual(new Set(literal('path')), new Set(platform.flatMap((route) => route.paths)));
      assert.deepEqual(new Set(literal('method')), new Set([...platform.map((r) => r.method), 'OPTIONS']));
      assert.doesNotMatch(read('netlify.toml'), /\[\[redirects\]\]/, 'no redirects beside config.path');
    });

    it("Vercel's api/ files and rewrites cover every platform path, each rewrite to its route's file", () => {
      const files = readdirSync(join(root, 'api')).map((file) => `/api/${file.replace(/\.ts$/, '')}`);
      const vercel = JSON.parse(read('vercel.json')) as {
        rewrites: { source: string; destination: string }[];
      };
      const served = [...files, ...vercel.rewrites.map((rewrite) => rewrite.source)];
      assert.deepEqual(served.sort(), platform.flatMap((route) => route.paths).sort());
      for (const { source, destination } of vercel.rewrites) {
        const route = platform.find((r) => r.paths.includes(source));
        assert.ok(files.includes(destination), `${destination} has a file`);
        // A path with parameters goes to the file of its /api copy's first segment (api/v2.ts
        // serves /api/v2/models/:name/infer), the rest to their own route's /api copy.
        const family = route?.paths.some((path) => path.startsWith(`${destination}/`));
        assert.ok(route?.paths.includes(destination) || family, `${source} → ${destination}: the same route`);
      }
    });

    it('Tencent SCF starts the self-hosted server, which serves the whole table', () => {
      assert.match(read('scf_bootstrap'), /dist\/handlers\/cli\/main\.js serve\b/);
    });
  });
});

describe('tflite-fn serve --api-key: every route, every spelling', () => {
  const KEY = 'sesame';
  let server: RunningServer;
  const grace = new Uint8Array(photo('grace_hopper.jpg'));
  before(async () => {
    server = await startServer(
      serverConfig({ port: '0', workers: '1', 'api-key': KEY, preload: 'imagenet' }, {}),
      () => undefined,
    );
    await server.ready;
  });
  after(() => server.close());

  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    rawRequest(server.url, {
      method,
      path,
      headers: { 'content-type': 'image/jpeg', ...headers },
      ...(method === 'POST' ? { body: grace } : {}),
    });

  it('the server registers exactly the table routes', () => {
    assert.deepEqual(registeredPaths(server.app), tablePaths(['every', 'server']));
  });

  for (const route of TABLE) {
    for (const pattern of route.paths) {
      it(`${route.method} ${pattern} (${route.open ? 'open' : 'needs the key'})`, async () => {
        for (const path of spellings(concrete(pattern))) {
          for (const method of ['GET', 'POST']) {
            const anonymous = await call(method, path);
            if (!route.open) {
              // Unknown spellings are refused too: without the key nothing but open routes answer.
              assert.equal(anonymous.status, 401, `${method} ${path}: ${anonymous.body}`);
              assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
            } else if (path === concrete(pattern) && method === route.method) {
              assert.equal(anonymous.status, 200, `${method} ${path}: ${anonymous.body}`);
            }
          }
        }
        const keyed = await call(route.method, concrete(pattern), { 'x-api-key': KEY });
        assert.notEqual(keyed.status, 401, keyed.body);
        assert.ok(keyed.status < 500, `${route.id}: ${keyed.status} ${keyed.body}`);
      });
    }
  }

  it('the key works as x-api-key, Bearer and dapr-api-token; a wrong or empty one does not', async () => {
    for (const headers of [
      { 'x-api-key': KEY },
      { authorization: `Bearer ${KEY}` },
      { 'dapr-api-token': KEY },
    ]) {
      const answer = await call('POST', '/%63lassify', headers);
      assert.equal(answer.status, 200, answer.body);
      assert.match(answer.body, /military uniform/);
    }
    for (const headers of [{ 'x-api-key': 'wrong' }, { 'x-api-key': '' }, { authorization: 'Bearer' }]) {
      assert.equal((await call('POST', '/classify', headers)).status, 401);
    }
  });

  it('metrics label every request by its table route, unknown paths with one label', async () => {
    const metrics = await call('GET', '/metrics', { 'x-api-key': KEY });
    const labels = new Set([...metrics.body.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    const allowed = new Set([...TABLE.map((route) => route.label), UNMATCHED_LABEL]);
    for (const label of labels) assert.ok(allowed.has(label as string), `label ${label}`);
    assert.match(metrics.body, /tflite_fn_requests_total\{route="\/classify",method="POST",status="401"\}/);
    assert.match(metrics.body, /tflite_fn_requests_total\{route="\/detect",method="POST",status="401"\}/);
    assert.match(
      metrics.body,
      /tflite_fn_requests_total\{route="\/dapr\/frames",method="POST",status="401"\}/,
    );
    assert.match(metrics.body, /tflite_fn_requests_total\{route="other",method="GET",status="401"\}/);
  });
});
