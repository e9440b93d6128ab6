/** Prometheus text-format metrics for the server: what an operator graphs and alerts on. */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface Gauges {
  queueDepth(): number;
  inFlight(): number;
  readyWorkers(): number;
  /** Request bodies admitted and not yet answered, and their bytes (the body budget). */
  bodiesInFlight(): number;
  bodyBytesInFlight(): number;
  /** The longest the main event loop was blocked since the previous scrape, in seconds. */
  eventLoopDelayMax(): number;
  workerRestarts(): number;
  modelLoadSeconds(): Map<string, number>;
  /** Dynamic batching: batches of more than one request run, and the requests in them. */
  batching(): { readonly batches: number; readonly batchedItems: number };
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = labels({ route, method, status: String(status) });
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const series = labels({ route });
    let entry = this.#histogram.get(series);
    if (!entry) {
      entry = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#histogram.set(series, entry);
    }
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) entry.buckets[i] = (entry.buckets[i] as number) + 1;
    });
    entry.sum += seconds;
    entry.count++;
  }

  render(gauges: Gauges): string {
    const lines: string[] = [];
    lines.push(
      '# HELP tflite_fn_requests_total HTTP requests by route, method and status.',
      '# TYPE tflite_fn_requests_total counter',
    );
    for (const [key, value] of this.#requests) lines.push(`tflite_fn_requests_total${key} ${value}`);
    lines.push(
      '# HELP tflite_fn_request_duration_seconds Time from request to response.',
      '# TYPE tflite_fn_request_duration_seconds histogram',
    );
    for (const [series, entry] of this.#histogram) {
      const route = series.slice(1, -1);
      for (const [i, bound] of BUCKETS.entries()) {
        lines.push(`tflite_fn_request_duration_seconds_bucket{${route},le="${bound}"} ${entry.buckets[i]}`);
      }
      lines.push(`tflite_fn_request_duration_seconds_bucket{${route},le="+Inf"} ${entry.count}`);
      lines.push(
        `tflite_fn_request_duration_seconds_sum${series} ${entry.sum}`,
        `tflite_fn_request_duration_seconds_count${series} ${entry.count}`,
      );
    }
    const gauge = (name: string, help: string, value: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    gauge('tflite_fn_queue_depth', 'Requests waiting for a worker.', gauges.queueDepth());
    gauge('tflite_fn_in_flight', 'Requests being classified.', gauges.inFlight());
    gauge(
      'tflite_fn_bodies_in_flight',
      'Request bodies admitted and not yet answered.',
      gauges.bodiesInFlight(),
    );
    gauge(
      'tflite_fn_body_bytes_in_flight',
      'Bytes of the request bodies admitted and not yet answered.',
      gauges.bodyBytesInFlight(),
    );
    gauge(
      'tflite_fn_event_loop_delay_max_seconds',
      'Longest main event loop delay since the previous scrape (what every request waits on).',
      gauges.eventLoopDelayMax(),
    );
    gauge('tflite_fn_workers_ready', 'Worker processes with their models loaded.', gauges.readyWorkers());
    lines.push(
      '# HELP tflite_fn_worker_restarts_total Workers replaced after exiting.',
      '# TYPE tflite_fn_worker_restarts_total counter',
    );
    lines.push(`tflite_fn_worker_restarts_total ${gauges.workerRestarts()}`);
    lines.push(
      '# HELP tflite_fn_model_load_seconds Time to load and warm each model in a worker.',
      '# TYPE tflite_fn_model_load_seconds gauge',
    );
    for (const [model, seconds] of gauges.modelLoadSeconds())
      lines.push(`tflite_fn_model_load_seconds${labels({ model })} ${seconds}`);
    const { batches, batchedItems } = gauges.batching();
    lines.push(
      '# HELP tflite_fn_batches_total Engine runs that served several requests at once (dynamic batching).',
      '# TYPE tflite_fn_batches_total counter',
      `tflite_fn_batches_total ${batches}`,
      '# HELP tflite_fn_batched_requests_total Requests served in those runs.',
      '# TYPE tflite_fn_batched_requests_total counter',
      `tflite_fn_batched_requests_total ${batchedItems}`,
    );
    return `${lines.join('\n')}\n`;
  }
}
