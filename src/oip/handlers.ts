/**
 * The Open Inference Protocol's HTTP routes (KServe v2): server and model metadata, health,
 * and inference on raw tensors, for every model a ModelSource holds. The route table
 * (src/http/routes.ts) lists their paths; createApp registers these handlers by route id.
 *
 * Health answers follow the protocol: 200 for true, 400 for false, with an empty body; errors
 * are `{"error": "<message>"}` with a status that says what went wrong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'hono';
import type { TensorInfo } from '../engine/types.js';
import { type TfliteFnError, UnavailableError } from '../errors.js';
import type { BodyLimit } from '../http/limits.js';
import { errorResponse } from '../http/respond.js';
import type { OipRouteId } from '../http/routes.js';
import { packageRoot } from '../store/paths.js';
import { datatypeOf } from './datatypes.js';
import { readInferRequest } from './infer-request.js';
import { assertOutputsCanFit, inferResponse, planOutputs } from './infer-response.js';
import { inputTensors } from './input-tensors.js';
import { labelOfOutput } from './labels.js';
import type { ModelSource, ResolvedModel } from './model-source.js';
import { type ReadinessSetup, serverReady } from './readiness.js';
import { protocolShape } from './shapes.js';
import {
  type BatchDimension,
  type ModelSignature,
  runTensorsHere,
  type TensorRunner,
} from './tensor-runner.js';

type Handler = (c: Context) => Response | Promise<Response>;

/** What the server metadata reports as supported beyond the required API. */
export const OIP_EXTENSIONS = ['binary_tensor_data', 'classification'] as const;

/** Platform names are "<project>_<format>"; every model here is a TensorFlow Lite file. */
const PLATFORM = 'tensorflowlite_tflite';

let serverVersion: string | undefined;

function packageVersion(): string {
  if (serverVersion === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
      serverVersion = String((manifest as { version?: unknown }).version ?? 'unknown');
    } catch {
      serverVersion = 'unknown';
    }
  }
  return serverVersion;
}

/** A health answer: 200 for true, 400 for false, no body (as the protocol says). */
const health = (ok: boolean) => new Response(null, { status: ok ? 200 : 400 });

function notReady(model: ResolvedModel): UnavailableError {
  const reason = model.reason ? `: ${model.reason}` : '';
  return new UnavailableError(
    'model_not_ready',
    `model '${model.name}' version '${model.version}' is ${model.state.toLowerCase()}${reason}`,
  );
}

/**
 * The model the URL names (its version, or the source's choice) with its signature, released
 * when `use` ends: whoever runs it (this process, a server worker) runs that version.
 */
async function withModel<T>(
  source: ModelSource,
  runner: TensorRunner,
  c: Context,
  use: (model: ResolvedModel, signature: ModelSignature) => Promise<T>,
): Promise<T> {
  const model = await source.resolve(c.req.param('name') as string, c.req.param('version'));
  try {
    if (model.state !== 'READY') throw notReady(model);
    return await use(model, await runner.describe(model));
  } finally {
    model.release();
  }
}

const tensorMetadata = (batch: BatchDimension) => (info: TensorInfo) => ({
  name: info.name,
  datatype: datatypeOf(info.dtype),
  shape: protocolShape(info.shape, batch),
});

export interface OipSetup {
  readonly source: ModelSource;
  readonly bodyLimit: BodyLimit;
  readonly logError: (error: TfliteFnError) => void;
  /** What runs the models (default: this process; the self-hosted server's worker pool). */
  readonly runner?: TensorRunner;
  /** What /v2/health/ready asks (readiness.ts); default: strict, always able to serve. */
  readonly readiness?: ReadinessSetup;
}

/** The handler of each OIP route id, each answering errors in the protocol's form. */
export function oipHandlers({
  source,
  bodyLimit,
  logError,
  runner = runTensorsHere,
  readiness = { strict: true },
}: OipSetup): Record<OipRouteId, Handler> {
  const guarded =
    (handler: Handler): Handler =>
    async (c) => {
      try {
        return await handler(c);
      } catch (error) {
        return errorResponse(error, logError, 'oip');
      }
    };
  return {
    'oip-server': guarded((c) =>
      c.json({ name: 'tflite-fn', version: packageVersion(), extensions: [...OIP_EXTENSIONS] }),
    ),
    'oip-live': () => health(true),
    'oip-ready': guarded(async () => health(await serverReady(source, readiness))),
    'oip-model-ready': guarded(async (c) => {
      const model = await source.resolve(c.req.param('name') as string, c.req.param('version'));
      model.release();
      return health(model.state === 'READY');
    }),
    'oip-model': guarded(async (c) => {
      const name = c.req.param('name') as string;
      const versions = (await source.index()).find((model) => model.name === name)?.versions ?? [];
      return withModel(source, runner, c, async (model, signature) =>
        c.json({
          name: model.name,
          versions: versions.map((version) => version.version),
          platform: PLATFORM,
          inputs: signature.inputs.map(tensorMetadata(signature.batch)),
          outputs: signature.outputs.map(tensorMetadata(signature.batch)),
        }),
      );
    }),
    'oip-infer': guarded((c) =>
      // The model first: an unknown or unready one is answered before the body is read.
      withModel(source, runner, c, async (model, signature) => {
        const request = await readInferRequest(c.req.raw, bodyLimit);
        const { tensors, items } = inputTensors(request, signature, bodyLimit);
        const plans = planOutputs(request, signature.outputs);
        assertOutputsCanFit(plans, signature.batch, items, bodyLimit);
        const outputs = await runner.infer(model, tensors);
        return inferResponse(request, plans, outputs, {
          modelName: model.name,
          modelVersion: model.version,
          labelOf: labelOfOutput(signature),
          limit: bodyLimit,
          batch: signature.batch,
          items,
        });
      }),
    ),
  };
}
