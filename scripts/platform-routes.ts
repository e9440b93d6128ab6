/**
 * The platform configs' route lists, written from the route table (src/http/routes.ts): the
 * Serverless Framework's httpApi events, Netlify's `config.path`, Vercel's api/ files and
 * rewrites. Each platform needs the list as a literal in its own file (their build tools read
 * the files without running our code), so the table cannot be imported there; instead
 * `npm run routes:sync` writes them and test/routes.test.ts fails when a committed file differs
 * from what the table gives. Only the route lists are generated; the rest of each file is
 * hand-written and kept as it is.
 *
 * Tencent SCF (scf_bootstrap) and Dapr need no list: SCF starts the self-hosted server, which
 * serves the whole table, and Dapr's sidecar asks the app (GET /dapr/subscribe).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformRoutes, type RouteSpec } from '../src/http/routes.js';
import { readmeFile } from './readme-tasks.js';

/** A file as the table says it should be: `text` undefined means the file must not exist. */
export interface PlatformFile {
  /** Relative to the package root. */
  readonly path: string;
  readonly text: string | undefined;
}

/** Where the platforms prefix: Vercel serves api/<name>.ts at /api/<name>. */
const API_PREFIX = '/api/';

/** Every (method, path) pair the platforms must route to the function. */
function platformPaths(routes: readonly RouteSpec[]): { method: string; path: string }[] {
  return routes.flatMap((route) => route.paths.map((path) => ({ method: route.method, path })));
}

/** A Hono pattern's `:param` segments as API Gateway writes them (`{param}`). */
export function gatewayPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

const SERVERLESS_EVENTS = /( +)events: # routes:sync[^\n]*\n(?:\1 {2}- httpApi: [^\n]*\n)*/;

/** serverless.yml with its `events:` list (marked `# routes:sync`) written from the table. */
export function serverlessYml(current: string, routes: readonly RouteSpec[]): string {
  const match = current.match(SERVERLESS_EVENTS);
  if (!match) throw new Error('serverless.yml has no `events: # routes:sync` line to write the routes under');
  const indent = match[1] as string;
  const header = (match[0].split('\n')[0] as string).trimEnd();
  const events = platformPaths(routes).map(
    ({ method, path }) => `${indent}  - httpApi: '${method} ${gatewayPath(path)}'\n`,
  );
  return current.replace(SERVERLESS_EVENTS, () => `${header}\n${events.join('')}`);
}

/** The one Netlify function, serving every platform path (no redirects needed). */
export function netlifyFunction(routes: readonly RouteSpec[]): string {
  const paths = platformPaths(routes).map(({ path }) => `    '${path}',\n`);
  const methods = [...new Set([...routes.map((route) => route.method), 'OPTIONS'])].sort();
  return `// Netlify Functions v2 entry: the handler lives in handlers/netlify; Netlify needs the config
// here, as literals it can read without running the code. Written by \`npm run routes:sync\`
// from the route table (src/http/routes.ts): edit the table, not this file.
export { default } from '../../handlers/netlify/index.js';

export const config = {
  path: [
${paths.join('')}  ],
  // Netlify answers OPTIONS itself unless the function asks for it (CORS preflight).
  method: [${methods.map((method) => `'${method}'`).join(', ')}],
};
`;
}

/** Vercel's function file for /api/<name>: every file re-exports the one handler. */
export function vercelApiFile(path: string): string {
  return `// Vercel routes ${path} to this file; every route shares the one handler. Written by
// \`npm run routes:sync\` from the route table (src/http/routes.ts).
export { GET, OPTIONS, POST } from '../handlers/vercel/index.js';
`;
}

/**
 * The api/ file that serves a /api path: the file of its first segment (`/api/v2/models/:name`
 * is served by api/v2.ts). Vercel's function config matches `api/*.ts`, one level, and a
 * rewritten request keeps the URL it was sent to, so the app still routes it by its own path.
 */
function vercelFileOf(apiPath: string): string {
  return `${API_PREFIX}${apiPath.slice(API_PREFIX.length).split('/')[0]}`;
}

/** The /api/<name> paths Vercel needs a file for. */
export function vercelApiPaths(routes: readonly RouteSpec[]): string[] {
  const paths = platformPaths(routes)
    .map(({ path }) => path)
    .filter((path) => path.startsWith(API_PREFIX))
    .map(vercelFileOf);
  return [...new Set(paths)];
}

/**
 * Vercel serves only api/ files: every other platform path is rewritten to the file that
 * serves its route's /api copy (that copy itself where it is a file).
 */
export function vercelRewrites(routes: readonly RouteSpec[]): { source: string; destination: string }[] {
  return routes.flatMap((route) => {
    const apiPaths = route.paths.filter((path) => path.startsWith(API_PREFIX));
    if (apiPaths.length === 0)
      throw new Error(`route ${route.id} has no ${API_PREFIX} path for Vercel to serve`);
    const apiCopy = (path: string) =>
      path.startsWith(API_PREFIX)
        ? path
        : (apiPaths.find((api) => api === `/api${path}`) ?? (apiPaths[0] as string));
    const fileOf = (path: string) => vercelFileOf(apiCopy(path));
    return route.paths
      .filter((path) => fileOf(path) !== path)
      .map((source) => ({ source, destination: fileOf(source) }));
  });
}

/** vercel.json with its rewrites from the table; everything else kept. */
export function vercelJson(current: string, routes: readonly RouteSpec[]): string {
  const config = JSON.parse(current) as Record<string, unknown>;
  config.rewrites = vercelRewrites(routes);
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Every generated file as the table says it should be, under `root`. */
export function platformFiles(root: string, routes: readonly RouteSpec[] = platformRoutes()): PlatformFile[] {
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const apiFiles = vercelApiPaths(routes).map((path) => ({
    path: `api/${path.slice(API_PREFIX.length)}.ts`,
    text: vercelApiFile(path),
  }));
  const wanted = new Set(apiFiles.map((file) => file.path));
  const stale = existsSync(join(root, 'api'))
    ? readdirSync(join(root, 'api'))
        .map((name) => `api/${name}`)
        .filter((path) => !wanted.has(path))
        .map((path) => ({ path, text: undefined }))
    : [];
  return [
    { path: 'serverless.yml', text: serverlessYml(read('serverless.yml'), routes) },
    { path: 'netlify/functions/classify.mts', text: netlifyFunction(routes) },
    { path: 'vercel.json', text: vercelJson(read('vercel.json'), routes) },
    ...apiFiles,
    ...stale,
    readmeFile(root),
  ];
}

/** The files whose content differs from the table's (missing, changed, or no longer wanted). */
export function stalePlatformFiles(root: string, routes?: readonly RouteSpec[]): PlatformFile[] {
  return platformFiles(root, routes).filter((file) => {
    const path = join(root, file.path);
    const actual = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    return actual !== file.text;
  });
}
