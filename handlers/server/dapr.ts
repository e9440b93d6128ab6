/**
 * The server as a Dapr pub/sub subscriber. Dapr's sidecar asks `GET /dapr/subscribe` which
 * topics the app wants and where to deliver them, then POSTs each message (a CloudEvent) to
 * that route and reads the answer: HTTP 200 with `{"status": "SUCCESS" | "RETRY" | "DROP"}`.
 * The app runs its task on the image (TFLITE_FN_DAPR_TASK: any task id, default classify) and
 * publishes the result (the task's JSON) through the sidecar's publish API
 * (`POST /v1.0/publish/<pubsub>/<topic>` on DAPR_HTTP_PORT).
 *
 * How the image arrives, by Dapr's content rules:
 * - structured CloudEvent (`application/cloudevents+json`): binary data in `data_base64`
 *   (Dapr encodes it so for a binary content type), or a JSON `data` with an `image` field
 *   holding base64;
 * - a raw payload (subscription metadata `rawPayload: "true"`): the body is the image itself.
 *
 * Answers: a bad image is DROP (it will never succeed; the reason is logged); a full queue,
 * a crashed worker or a failed publish is RETRY (Dapr delivers it again later).
 */
import { DAPR_PUBSUB, DAPR_RESULTS_TOPIC, DAPR_TASK, DAPR_TOPIC, type Env } from '../../src/config/index.js';
import { BadRequestError, toTfliteFnError } from '../../src/errors.js';
import type { RouteHandler } from '../../src/http/app.js';
import { decodeBase64 } from '../../src/http/base64.js';
import { checkJsonPrefix, parseJsonEnvelope } from '../../src/http/json-envelope.js';
import type { BodyLimit } from '../../src/http/limits.js';
import { readBodyCapped } from '../../src/http/read-request.js';
import { routeById } from '../../src/http/routes.js';
import type { TaskRunner } from '../../src/http/task-job.js';
import { taskById } from '../../src/tasks/index.js';

export interface DaprConfig {
  readonly pubsub: string;
  readonly topic: string;
  readonly resultsTopic: string;
  /** The task every delivered image goes through (its id in TASKS). */
  readonly task: string;
  /** Where the sidecar's HTTP API listens (DAPR_HTTP_PORT on localhost). */
  readonly sidecar: string;
}

export function daprConfig(env: Env = process.env): DaprConfig {
  return {
    pubsub: DAPR_PUBSUB.value(env),
    topic: DAPR_TOPIC.value(env),
    resultsTopic: DAPR_RESULTS_TOPIC.value(env),
    task: DAPR_TASK.value(env),
    sidecar: `http://127.0.0.1:${env.DAPR_HTTP_PORT ?? '3500'}`,
  };
}

/** Where deliveries go: the route table's path, told to the sidecar by /dapr/subscribe. */
export const DAPR_ROUTE = routeById('dapr-frames').paths[0] as string;

type Status = 'SUCCESS' | 'RETRY' | 'DROP';

interface CloudEvent {
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  readonly datacontenttype?: string;
  readonly data_base64?: string;
  readonly data?: unknown;
}

/** The image bytes and the event's id, from either content mode. */
async function readDelivery(
  request: Request,
  limit: BodyLimit,
): Promise<{ image: Uint8Array; id: string; source: string }> {
  const type = request.headers.get('content-type') ?? '';
  const isJson = type.includes('application/cloudevents+json') || type.includes('application/json');
  const body = await readBodyCapped(request, limit, isJson ? checkJsonPrefix : undefined);
  if (isJson) {
    const event = parseJsonEnvelope(body) as CloudEvent;
    if (typeof event !== 'object' || event === null)
      throw new BadRequestError('bad_json', 'the CloudEvent is not a JSON object');
    const id = event.id ?? '';
    const source = event.source ?? '';
    if (typeof event.data_base64 === 'string') return { image: decodeBase64(event.data_base64), id, source };
    const data = typeof event.data === 'string' ? safeJson(event.data) : event.data;
    const image = (data as { image?: unknown } | undefined)?.image;
    if (typeof image === 'string') return { image: decodeBase64(image), id, source };
    throw new BadRequestError(
      'no_image',
      'the CloudEvent carries no image: send binary data (data_base64) or data.image',
    );
  }
  // A raw payload: the body is the image; binary-mode CloudEvent attributes come as ce- headers.
  return {
    image: body,
    id: request.headers.get('ce-id') ?? '',
    source: request.headers.get('ce-source') ?? '',
  };
}

/** `data` sent as a JSON string: parsed with the same bounds as the envelope. */
function safeJson(text: string): unknown {
  try {
    return parseJsonEnvelope(Buffer.from(text));
  } catch {
    return undefined;
  }
}

/** Handlers for the table's two Dapr routes: the subscription, and the deliveries. */
export function daprHandlers(options: {
  readonly config: DaprConfig;
  /** Runs the task: the server's worker pool. */
  readonly run: TaskRunner;
  readonly log: (event: Record<string, unknown>) => void;
  readonly bodyLimit: BodyLimit;
}): Record<'dapr-subscribe' | 'dapr-frames', RouteHandler> {
  const { config, log } = options;
  // An unknown task stops the server at start, naming the tasks there are.
  const task = taskById(config.task);
  const taskOptions = task.parseOptions({});
  const subscribe: RouteHandler = (c) =>
    c.json([{ pubsubname: config.pubsub, topic: config.topic, route: DAPR_ROUTE }]);
  const deliver: RouteHandler = async (c) => {
    const answer = (status: Status) => c.json({ status });
    let delivery: Awaited<ReturnType<typeof readDelivery>>;
    let result: unknown;
    try {
      delivery = await readDelivery(c.req.raw, options.bodyLimit);
      const outcome = await options.run({ task: task.id, image: delivery.image, options: taskOptions });
      result = task.toJson ? task.toJson(outcome.result) : outcome.result;
    } catch (error) {
      const failure = toTfliteFnError(error);
      // The message's own fault never goes away on retry; anything else may.
      const status: Status = failure.status < 500 ? 'DROP' : 'RETRY';
      log({ level: 'warn', msg: 'dapr delivery', status, code: failure.code, reason: failure.message });
      return answer(status);
    }
    const published = await fetch(`${config.sidecar}/v1.0/publish/${config.pubsub}/${config.resultsTopic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ eventId: delivery.id, source: delivery.source, ...(result as object) }),
    }).catch((error: unknown) => error as Error);
    if (published instanceof Error || !published.ok) {
      const reason = published instanceof Error ? published.message : `sidecar answered ${published.status}`;
      log({ level: 'warn', msg: 'dapr publish failed', status: 'RETRY', reason });
      return answer('RETRY');
    }
    return answer('SUCCESS');
  };
  return { 'dapr-subscribe': subscribe, 'dapr-frames': deliver };
}
