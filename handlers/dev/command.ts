/** `tflite-fn dev`: starts the emulator and prints how to call it. */

import { relative } from 'node:path';
import { BadRequestError } from '../../src/errors.js';
import type { PinnedFile } from '../../src/store/fetch.js';
import { sampleOnFirstUse } from '../../src/store/first-use.js';
import { SAMPLE_PHOTOS } from '../../src/store/samples.js';
import { LAMBDA_EVENT_KINDS, type LambdaEventKind } from './lambda-events.js';
import { PLATFORMS, type Platform, startDevServer } from './server.js';

export interface DevArgs {
  readonly platform?: string | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
  readonly event?: string | undefined;
}

export async function devCommand(args: DevArgs, stdout: NodeJS.WritableStream): Promise<number> {
  const platform = (args.platform ?? 'lambda') as Platform;
  if (!PLATFORMS.includes(platform)) {
    throw new BadRequestError('bad_option', `--platform must be one of ${PLATFORMS.join(', ')}`);
  }
  const event = args.event as LambdaEventKind | undefined;
  if (event !== undefined && !LAMBDA_EVENT_KINDS.includes(event)) {
    throw new BadRequestError('bad_option', `--event must be one of ${LAMBDA_EVENT_KINDS.join(', ')}`);
  }
  const port = args.port === undefined ? 3000 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new BadRequestError('bad_option', '--port must be 0-65535');
  const server = await startDevServer({
    platform,
    port,
    host: args.host ?? '127.0.0.1',
    ...(event ? { event } : {}),
  });
  const prefix = platform === 'lambda' ? '' : '/api';
  const path = `${prefix}/classify`;
  const { ROUTES } = await import('../../src/http/routes.js');
  const tasks = ROUTES.filter((route) => route.task).map((route) => route.id);
  // The photo the printed command sends: fetched now if set-up has not run (an installed package).
  const sample = SAMPLE_PHOTOS.find((candidate) => candidate.name === 'grace_hopper.jpg') as PinnedFile;
  const photo = relative(process.cwd(), await sampleOnFirstUse(sample)) || 'grace_hopper.jpg';
  const front = platform === 'lambda' ? ` (${event ?? 'api-gateway-v2'} events)` : '';
  stdout.write(
    `tflite-fn dev: ${platform}${front} listening on ${server.url}\n` +
      `  try: curl --data-binary @${photo} -H 'content-type: image/jpeg' ${server.url}${path}\n` +
      `       curl --data-binary @${photo} -H 'content-type: image/jpeg' -H 'accept: text/html' '${server.url}${path}?resize=fill'\n` +
      `  every task: POST ${server.url}${prefix}/<task>, task one of ${tasks.join(', ')}\n` +
      '  Ctrl-C stops it.\n',
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
