/**
 * `tflite-fn event FILE`: prints the AWS Lambda event a front door would send for a photo, for
 * `serverless invoke local --path event.json` and `aws lambda invoke --payload file://...`.
 */
import { readFile } from 'node:fs/promises';
import { BadRequestError } from '../../src/errors.js';
import { eventTemplate } from './event-templates.js';
import { buildLambdaEvent, LAMBDA_EVENT_KINDS, type LambdaEventKind } from './lambda-events.js';

export interface EventArgs {
  readonly file?: string | undefined;
  readonly kind?: string | undefined;
  readonly path?: string | undefined;
  readonly query?: string | undefined;
  readonly contentType?: string | undefined;
  readonly accept?: string | undefined;
}

export async function eventCommand(args: EventArgs, stdout: NodeJS.WritableStream): Promise<number> {
  if (!args.file)
    throw new BadRequestError('bad_option', 'name the photo: tflite-fn event photo.jpg > event.json');
  const kind = (args.kind ?? 'api-gateway-v2') as LambdaEventKind;
  if (!LAMBDA_EVENT_KINDS.includes(kind)) {
    throw new BadRequestError('bad_option', `--kind must be one of ${LAMBDA_EVENT_KINDS.join(', ')}`);
  }
  const body = await readFile(args.file);
  const headers = {
    'content-type': args.contentType ?? 'image/jpeg',
    accept: args.accept ?? 'application/json',
  };
  const request = { method: 'POST', path: args.path ?? '/classify', query: args.query ?? '', headers, body };
  const event = buildLambdaEvent(
    kind,
    request,
    eventTemplate(kind, 'abcdef1234.execute-api.us-east-1.amazonaws.com'),
  );
  stdout.write(`${JSON.stringify(event, null, 2)}\n`);
  return 0;
}
