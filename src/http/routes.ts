/**
 * The route table: every route any surface serves, as data. It is the one source of truth for
 * what the app registers (src/http/app.ts registers these and nothing else), who may call a
 * route (the API key), which methods CORS allows, the metrics label, and which routes admit a
 * body into the worker pool. A route not listed here is not served; a route listed without
 * `open: true` needs the key when one is set (deny by default). Task routes come from TASKS
 * (src/tasks/index.ts): one per task, so a task added there is served on every surface.
 */
import { TASKS } from '../tasks/index.js';
import type { Task } from '../tasks/task.js';

/** What a route does: decides its access and whether its body is admitted like an image. */
export type RouteWork =
  /** Runs a model on the request body. */
  | 'inference'
  /** Says which models this deployment has. */
  | 'catalog'
  /** Liveness / readiness for orchestrators. */
  | 'probe'
  /** Fixed content: the demo page and its sample photos. */
  | 'static'
  /** Operational figures (Prometheus). */
  | 'telemetry'
  /** Tells a Dapr sidecar what to deliver where. */
  | 'subscription';

export interface RouteSpec {
  readonly id: string;
  readonly method: 'GET' | 'POST';
  /** Hono path patterns; the /api copies are where serverless platforms prefix. */
  readonly paths: readonly string[];
  readonly does: RouteWork;
  /** Served without the API key. Absent means the key is needed (when one is configured). */
  readonly open?: true;
  /** `route` label in /metrics: one per route, so label values stay few. */
  readonly label: string;
  /** 'every' platform, or only the self-hosted 'server'. */
  readonly surface: 'every' | 'server';
  /** The task a task route runs (its id in TASKS). */
  readonly task?: string;
  /**
   * How its errors are written, also when the request is refused before its handler (401,
   * 405, 503): the task routes' `{"error": {code, message}}` by default, 'oip' for the Open
   * Inference Protocol's `{"error": "message"}`.
   */
  readonly errors?: ErrorShape;
}

export type ErrorShape = 'tflite-fn' | 'oip';

/**
 * A task's route: `POST /<id>` and `/api/<id>` on every platform, labelled `/<id>`. One per
 * task in TASKS, so a new task is served everywhere by its line there.
 */
export function taskRoute(task: Pick<Task, 'id'>): RouteSpec {
  return {
    id: task.id,
    method: 'POST',
    paths: [`/${task.id}`, `/api/${task.id}`],
    does: 'inference',
    label: `/${task.id}`,
    surface: 'every',
    task: task.id,
  };
}

/** A path of the Open Inference Protocol, bare and under /api (where platforms prefix). */
const oipPaths = (...paths: string[]) => [...paths, ...paths.map((path) => `/api${path}`)];

/** Where the protocol's paths start: everything below is the protocol's, listed or not. */
const OIP_ROOTS = oipPaths('/v2');

/** A path under /v2 (or /api/v2): its errors are the protocol's, served route or not. */
export function isOipPath(path: string): boolean {
  return OIP_ROOTS.some((root) => path === root || path.startsWith(`${root}/`));
}

/**
 * How an answer to this request is written when it is an error: the matched route's shape, or
 * for a path no route matched, the protocol's under /v2 and the task routes' elsewhere.
 */
export function errorShapeOf(route: RouteSpec | undefined, path: string): ErrorShape {
  return route?.errors ?? (isOipPath(path) ? 'oip' : 'tflite-fn');
}
/** A model's path, without and with the version (the protocol's `[/versions/${'$'}{v}]`). */
const modelPaths = (tail = '') =>
  oipPaths(`/v2/models/:name${tail}`, `/v2/models/:name/versions/:version${tail}`);

/**
 * The Open Inference Protocol (KServe v2, src/oip/): health is open, as the task routes'
 * probes are (liveness, readiness, a model's readiness); metadata and inference need the key.
 */
export const OIP_ROUTES = [
  {
    id: 'oip-server',
    method: 'GET',
    paths: oipPaths('/v2'),
    does: 'catalog',
    label: '/v2',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-live',
    method: 'GET',
    paths: oipPaths('/v2/health/live'),
    does: 'probe',
    open: true,
    label: '/v2/health/live',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-ready',
    method: 'GET',
    paths: oipPaths('/v2/health/ready'),
    does: 'probe',
    open: true,
    label: '/v2/health/ready',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-model',
    method: 'GET',
    paths: modelPaths(),
    does: 'catalog',
    label: '/v2/models/:name',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-model-ready',
    method: 'GET',
    paths: modelPaths('/ready'),
    does: 'probe',
    open: true,
    label: '/v2/models/:name/ready',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-infer',
    method: 'POST',
    paths: modelPaths('/infer'),
    does: 'inference',
    label: '/v2/models/:name/infer',
    surface: 'every',
    errors: 'oip',
  },
] as const satisfies readonly RouteSpec[];

/**
 * The protocol's model repository extension (Triton's; src/model/repository-api.ts): the
 * index and loading or unloading a model. Never open: unloading is an operator's act.
 */
export const REPOSITORY_ROUTES = [
  {
    id: 'oip-repository-index',
    method: 'POST',
    paths: oipPaths('/v2/repository/index'),
    does: 'catalog',
    label: '/v2/repository/index',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-repository-load',
    method: 'POST',
    paths: oipPaths('/v2/repository/models/:name/load'),
    does: 'catalog',
    label: '/v2/repository/models/:name/load',
    surface: 'every',
    errors: 'oip',
  },
  {
    id: 'oip-repository-unload',
    method: 'POST',
    paths: oipPaths('/v2/repository/models/:name/unload'),
    does: 'catalog',
    label: '/v2/repository/models/:name/unload',
    surface: 'every',
    errors: 'oip',
  },
] as const satisfies readonly RouteSpec[];

/** The routes that are not tasks': the catalog, probes, the demo page, metrics, Dapr. */
export const FIXED_ROUTES = [
  {
    id: 'models',
    method: 'GET',
    paths: ['/models', '/api/models'],
    does: 'catalog',
    label: '/models',
    surface: 'every',
  },
  {
    id: 'healthz',
    method: 'GET',
    paths: ['/healthz', '/api/healthz'],
    does: 'probe',
    open: true,
    label: '/healthz',
    surface: 'every',
  },
  { id: 'demo', method: 'GET', paths: ['/'], does: 'static', open: true, label: '/', surface: 'server' },
  {
    id: 'samples',
    method: 'GET',
    paths: ['/samples'],
    does: 'static',
    open: true,
    label: '/samples',
    surface: 'server',
  },
  {
    id: 'sample',
    method: 'GET',
    paths: ['/samples/:name'],
    does: 'static',
    open: true,
    label: '/samples/:name',
    surface: 'server',
  },
  {
    id: 'readyz',
    method: 'GET',
    paths: ['/readyz'],
    does: 'probe',
    open: true,
    label: '/readyz',
    surface: 'server',
  },
  {
    id: 'metrics',
    method: 'GET',
    paths: ['/metrics'],
    does: 'telemetry',
    label: '/metrics',
    surface: 'server',
  },
  {
    id: 'dapr-subscribe',
    method: 'GET',
    paths: ['/dapr/subscribe'],
    does: 'subscription',
    label: '/dapr/subscribe',
    surface: 'server',
  },
  {
    id: 'dapr-frames',
    method: 'POST',
    paths: ['/dapr/frames'],
    does: 'inference',
    label: '/dapr/frames',
    surface: 'server',
  },
] as const satisfies readonly RouteSpec[];

export type FixedRouteId =
  | (typeof FIXED_ROUTES)[number]['id']
  | (typeof OIP_ROUTES)[number]['id']
  | (typeof REPOSITORY_ROUTES)[number]['id'];
export type PlatformRouteId = Extract<(typeof FIXED_ROUTES)[number], { surface: 'every' }>['id'];
export type OipRouteId = (typeof OIP_ROUTES)[number]['id'];
export type RepositoryRouteId = (typeof REPOSITORY_ROUTES)[number]['id'];
export type ServerRouteId = Extract<(typeof FIXED_ROUTES)[number], { surface: 'server' }>['id'];

/** Every route: one per task (in TASKS' order), then the fixed ones, then the protocol's. */
export const ROUTES: readonly RouteSpec[] = [
  ...TASKS.map(taskRoute),
  ...FIXED_ROUTES,
  ...OIP_ROUTES,
  ...REPOSITORY_ROUTES,
];

for (const route of ROUTES) {
  if (ROUTES.filter((other) => other.id === route.id).length > 1)
    throw new Error(`route table: '${route.id}' is both a task and a fixed route`);
}

/** The label for a request that matched no route: one value, however many paths are tried. */
export const UNMATCHED_LABEL = 'other';

const BY_PATTERN = new Map<string, RouteSpec>(
  ROUTES.flatMap((route) => route.paths.map((path) => [path, route] as const)),
);

/** The table entry a registered path pattern belongs to (undefined for middleware patterns). */
export function routeOfPattern(pattern: string): RouteSpec | undefined {
  return BY_PATTERN.get(pattern);
}

export function routeById(id: FixedRouteId): RouteSpec {
  return ROUTES.find((route) => route.id === id) as RouteSpec;
}

/** The routes every platform serves: what the platform configs must route to the function. */
export function platformRoutes(): readonly RouteSpec[] {
  return ROUTES.filter((route) => route.surface === 'every');
}

/** The path a task is served at (its route's first). */
export function routeOfTask(task: string): string {
  const route = ROUTES.find((candidate) => candidate.task === task);
  if (!route) throw new Error(`no route for task '${task}'`);
  return route.paths[0] as string;
}
