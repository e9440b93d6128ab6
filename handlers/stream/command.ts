/** CLI glue for `tflite-fn stream` and `tflite-fn stream-source`. */
import { NATS, THREADS } from '../../src/config/index.js';
import { BadRequestError } from '../../src/errors.js';
import { createProgress } from '../../src/util/progress.js';
import type { Io } from '../cli/commands.js';
import { DEFAULT_DELIVERY, type StreamNames } from './broker.js';

export interface StreamFlags {
  readonly server?: string | undefined;
  readonly in?: string | undefined;
  readonly out?: string | undefined;
  readonly dead?: string | undefined;
  readonly task?: string | undefined;
  readonly model?: string | undefined;
  readonly concurrency?: string | undefined;
  readonly 'ack-wait'?: string | undefined;
  readonly 'max-deliver'?: string | undefined;
  readonly every?: string | undefined;
  readonly rate?: string | undefined;
}

function subjects(flags: StreamFlags): StreamNames & { server: string } {
  const input = flags.in ?? 'frames';
  return {
    server: flags.server ?? NATS.value(),
    input,
    output: flags.out ?? 'results',
    deadLetter: flags.dead ?? `${input}.dead`,
  };
}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0)
    throw new BadRequestError('bad_option', `--${name} takes a number, got '${value}'`);
  return number;
}

const log = (event: Record<string, unknown>) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...event })}\n`);

export async function streamCommand(flags: StreamFlags): Promise<number> {
  const task = flags.task ?? 'classify';
  const { TASKS } = await import('../../src/tasks/index.js');
  if (!TASKS.some((candidate) => candidate.id === task))
    throw new BadRequestError(
      'bad_option',
      `--task is one of ${TASKS.map((candidate) => candidate.id).join(', ')}, got '${task}'`,
    );
  // One inference thread per worker, as the server's workers: scale out by running one worker
  // per core (they share the queue), not by threads that would compete with the decoding.
  THREADS.assign('1', { ifUnset: true });
  // Likewise one libvips thread: a worker is one core's worth of work, so N workers use N.
  process.env.VIPS_CONCURRENCY ??= '1';
  const { startStreamWorker } = await import('./stream-worker.js');
  const worker = await startStreamWorker(
    {
      ...subjects(flags),
      task,
      model: flags.model,
      concurrency: positiveNumber(flags.concurrency, 'concurrency', 1),
      delivery: {
        ackWaitMs: positiveNumber(flags['ack-wait'], 'ack-wait', DEFAULT_DELIVERY.ackWaitMs),
        maxDeliver: positiveNumber(flags['max-deliver'], 'max-deliver', DEFAULT_DELIVERY.maxDeliver),
      },
    },
    log,
  );
  // SIGTERM/SIGINT: stop taking frames, finish (and acknowledge) those in flight, then leave.
  // The command returns only once the stop has drained the connection; the CLI then exits
  // after its output is flushed (never process.exit() here, which would cut a piped log).
  let stopped: Promise<void> | undefined;
  const stop = () => {
    if (stopped) return;
    log({ msg: 'stopping', processed: worker.processed() });
    stopped = worker.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await worker.done;
  await stopped;
  return 0;
}

export async function streamSourceCommand(
  path: string | undefined,
  flags: StreamFlags,
  io: Io,
): Promise<number> {
  if (!path) throw new BadRequestError('bad_option', 'name a video file or a folder of images');
  const { publishSource } = await import('./stream-source.js');
  let progress: ReturnType<typeof createProgress> | undefined;
  const { published, byReference, failed } = await publishSource(path, {
    ...subjects(flags),
    every: positiveNumber(flags.every, 'every', 24) || 1,
    rate: positiveNumber(flags.rate, 'rate', 0),
    onProgress: (done, total) => {
      progress ??= createProgress('publishing frames', total);
      progress.update(done);
    },
  });
  progress?.finish();
  const stored =
    byReference > 0 ? ` (${byReference} through the object store: above the broker's max_payload)` : '';
  io.stderr.write(`published ${published} frames from ${path}${stored}\n`);
  if (failed.length === 0) return 0;
  io.stderr.write(`${failed.length} could not be published:\n`);
  for (const { file, reason } of failed) io.stderr.write(`  ${file}: ${reason}\n`);
  return 1;
}
