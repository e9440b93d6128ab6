/**
 * The one handler behind every task route (POST /<task>): read the image and the options,
 * let the task check its options, pick the answer's form, run the job, and answer in that
 * form. Nothing here is particular to a task: what differs is the task's parseOptions, its
 * renderers and its pictures (src/tasks/task.ts).
 */
import type { Context } from 'hono';
import { TooLargeError } from '../errors.js';
import type { AnyTask } from '../tasks/index.js';
import type { BodyLimit } from './limits.js';
import { negotiate, offersOf, parseFormat } from './negotiate.js';
import { readTaskRequest } from './read-request.js';
import type { TaskRunner } from './task-job.js';

/**
 * What arrived, so a client can tell a mangled upload (the classic base64/UTF-8 bug of
 * serverless front doors) from a wrong answer. Hashed on the thread pool (WebCrypto's digest
 * is asynchronous): 32 MB would hold the main loop for a tenth of a second.
 */
async function receipt(image: Uint8Array): Promise<{ bytes: number; sha256: string }> {
  const digest = await crypto.subtle.digest('SHA-256', image as Uint8Array<ArrayBuffer>);
  return { bytes: image.length, sha256: Buffer.from(digest).toString('hex') };
}

/** A picture larger than the platform returns is a clear 413, not the platform's own error. */
function assertPictureFits(picture: Uint8Array, format: string, limit: BodyLimit): void {
  if (!limit.answer || picture.length <= limit.answer.maxBytes) return;
  throw new TooLargeError(
    'picture_too_large',
    `the ${format} picture is ${picture.length} bytes; ${limit.answer.description}. Send a smaller photo, or ask for a JPEG picture where the task draws one`,
  );
}

export function taskHandler(
  task: AnyTask,
  setup: { readonly bodyLimit: BodyLimit; readonly run: TaskRunner },
): (c: Context) => Promise<Response> {
  const offers = offersOf(task);
  const route = `/${task.id}`;
  return async (c) => {
    const request = await readTaskRequest(c.req.raw, setup.bodyLimit);
    const options = task.parseOptions(request.options);
    const format =
      parseFormat(request.options.format, offers, route) ?? negotiate(c.req.header('accept'), offers);
    const pictureRenderer = task.pictures?.[format];
    const pictureName = pictureRenderer ? format : undefined;
    const { result, picture } = await setup.run({
      task: task.id,
      image: request.image,
      options,
      model: request.model,
      picture: pictureName,
    });
    c.header('vary', 'Accept');
    if (picture) assertPictureFits(picture, format, setup.bodyLimit);
    if (pictureRenderer && picture)
      return c.body(picture as Uint8Array<ArrayBuffer>, 200, { 'content-type': pictureRenderer.contentType });
    if (format === 'html' && task.html) return c.html(task.html(result));
    if (format === 'text') return c.text(`${task.text(result)}\n`);
    const json = task.toJson ? task.toJson(result) : result;
    if (!task.receipt) return c.json(json);
    return c.json({ ...(json as object), received: await receipt(request.image) });
  };
}
