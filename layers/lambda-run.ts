/**
 * Runs a Lambda function the way Lambda does: a runtime process (our runtime-client.js, or the
 * real aws-lambda-ric when given) started in the task folder, polling a local Runtime API
 * (runtime-api.ts) for the events we queue. Reports init as Lambda counts it (process start
 * to the first poll for an event) and each invocation's duration.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LAMBDA_RIC } from '../src/config/index.js';
import { type InvocationResult, LocalRuntimeApi } from './runtime-api.js';

export interface FunctionRunOptions {
  /** The task folder (Lambda's /var/task), also the runtime's working directory. */
  readonly taskRoot: string;
  /** "file.export", as in serverless.yml's `handler`, relative to taskRoot. */
  readonly handler: string;
  /** Events, sent one after another once init is over. */
  readonly events: readonly unknown[];
  /** The runtime's whole environment (nothing is inherited) besides what Lambda itself sets. */
  readonly env: Record<string, string>;
  /**
   * The real runtime interface client: the path of aws-lambda-ric's bin/index.mjs. Default:
   * our stand-in, dist/layers/runtime-client.js.
   */
  readonly ric?: string;
  /** Run the runtime as this user and group (only root may), as Lambda runs functions unprivileged. */
  readonly uid?: number;
  readonly gid?: number;
}

export interface FunctionRun {
  /** Process start to the runtime's first GET /invocation/next: Lambda's "Init Duration". */
  readonly initMs: number;
  readonly invocations: readonly InvocationResult[];
  /** Set when the runtime reported an init error or exited before polling. */
  readonly initError?: unknown;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The real runtime interface client, when TFLITE_FN_LAMBDA_RIC names aws-lambda-ric's
 * bin/index.mjs (it builds native code: `npm install aws-lambda-ric` needs cmake and autotools).
 */
export const RIC_VARIABLE = LAMBDA_RIC.name;

export function realRuntimeClient(): string | undefined {
  return LAMBDA_RIC.read();
}

/** The runtime stand-in, compiled beside this file. */
export function runtimeClientPath(): string {
  return fileURLToPath(new URL('./runtime-client.js', import.meta.url));
}

export async function runLambdaFunction(options: FunctionRunOptions): Promise<FunctionRun> {
  const api = await LocalRuntimeApi.start();
  const args = options.ric ? [options.ric, options.handler] : [runtimeClientPath()];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: options.taskRoot,
    env: {
      ...options.env,
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_TASK_ROOT: options.taskRoot,
      _HANDLER: options.handler,
      AWS_LAMBDA_FUNCTION_NAME: 'tflite-fn-local',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Init fails if the runtime reports it, or if the process dies before asking for an event.
  const initFailed = new Promise<unknown>((resolve) => {
    api.onInitError(resolve);
    void exited.then((code) => resolve(api.initError ?? `the runtime exited with ${code} during init`));
  });
  const invocations: InvocationResult[] = [];
  let initError: unknown;
  try {
    for (const event of options.events) {
      const outcome = await Promise.race([api.invoke(event), initFailed.then((error) => ({ error }))]);
      if (!('requestId' in outcome)) {
        initError = outcome.error;
        break;
      }
      invocations.push(outcome);
    }
  } finally {
    child.kill();
    await exited;
    await api.close();
  }
  return {
    initMs: api.firstPollAt === undefined ? Number.NaN : api.firstPollAt - started,
    invocations,
    ...(initError === undefined ? {} : { initError }),
    stdout,
    stderr,
  };
}
