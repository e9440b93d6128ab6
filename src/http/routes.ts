/**
 * The route table: every route any surface serves, as data. It is the one source of truth for
 * what the app registers (src/http/app.ts registers these and nothing else), who may call a
 * route (the API key), which methods CORS allows, the metrics label, and which routes admit a
 * body into the worker pool. A route not listed here is not served; a route listed without
 * `open: true` needs the key when one is set (deny by default).
 */

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
}

export const ROUTES = [
  {
    id: 'classify',
    method: 'POST',
    paths: ['/classify', '/api/classify'],
    does: 'inference',
    label: '/classify',
    surface: 'every',
  },
  {
    id: 'detect',
    method: 'POST',
    paths: ['/detect', '/api/detect'],
    does: 'inference',
    label: '/detect',
    surface: 'every',
  },
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

export type RouteId = (typeof ROUTES)[number]['id'];
export type PlatformRouteId = Extract<(typeof ROUTES)[number], { surface: 'every' }>['id'];
export type ServerRouteId = Extract<(typeof ROUTES)[number], { surface: 'server' }>['id'];

/** The label for a request that matched no route: one value, however many paths are tried. */
export const UNMATCHED_LABEL = 'other';

const BY_PATTERN = new Map<string, RouteSpec>(
  ROUTES.flatMap((route) => route.paths.map((path) => [path, route as RouteSpec] as const)),
);

/** The table entry a registered path pattern belongs to (undefined for middleware patterns). */
export function routeOfPattern(pattern: string): RouteSpec | undefined {
  return BY_PATTERN.get(pattern);
}

export function routeById(id: RouteId): RouteSpec {
  return ROUTES.find((route) => route.id === id) as RouteSpec;
}

/** The routes every platform serves: what the platform configs must route to the function. */
export function platformRoutes(): readonly RouteSpec[] {
  return (ROUTES as readonly RouteSpec[]).filter((route) => route.surface === 'every');
}
