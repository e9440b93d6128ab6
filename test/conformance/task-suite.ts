/**
 * Every task's route on a platform: for each task of TASKS, POST /<task> answers a real photo
 * with the task's JSON result (the same fields runTask gives in this process, with model,
 * engine, image and timings), its pictures at the photo's size, and bad input with the status
 * that says what was wrong. Parameterized over TASKS: a task added there is checked on every
 * platform with nothing added here.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { HttpResponseParts } from '../../handlers/dev/lambda-events.js';
import { offersOf } from '../../src/http/negotiate.js';
import { defaultCatalog, ModelCatalog } from '../../src/model/catalog.js';
import { TASKS } from '../../src/tasks/index.js';
import { runTask } from '../../src/tasks/run.js';
import { photo } from '../helpers.js';
import type { Invoke } from './suite.js';

export interface TaskConformanceOptions {
  readonly prefix: string;
  /**
   * Where the deployment runs on the native engine only (Netlify: no LiteRT in its 50 MB), a
   * task whose default model has no verified conversion cannot run there: skipped, saying so.
   */
  readonly nativeOnly?: boolean;
}

/** The photo every task gets: a person, a face, a uniform — something for each task to find. */
const PHOTO = 'grace_hopper.jpg';
const UPRIGHT = { format: 'jpeg', width: 517, height: 606 };

function body(response: HttpResponseParts): string {
  return new TextDecoder().decode(response.body);
}

function json<T>(response: HttpResponseParts): T {
  return JSON.parse(body(response)) as T;
}

/** Whether the model has a verified conversion: `auto` then picks the native engine. */
function converted(model: string): boolean {
  return new ModelCatalog({ warmUp: false, engine: 'auto' }).plannedEngine(model).engine === 'ort';
}

export function describeTaskConformance(
  platform: string,
  invoke: Invoke,
  options: TaskConformanceOptions,
): void {
  const image = new Uint8Array(photo(PHOTO));
  for (const task of TASKS) {
    const path = `${options.prefix}/${task.id}`;
    const model = defaultCatalog().defaultModelFor(task);
    const skip = options.nativeOnly && !converted(model) ? `${model} has no verified ONNX conversion` : false;
    describe(`${platform}: POST /${task.id}`, { skip }, () => {
      /** The JSON fields runTask gives for this photo, in this process. */
      let fields: string[] = [];
      before(async () => {
        const result = await runTask(task, image, task.parseOptions({}));
        fields = Object.keys((task.toJson ? task.toJson(result) : result) as object).sort();
      });
      const post = (headers: Record<string, string>, bytes: Uint8Array, query = '') =>
        invoke({
          method: 'POST',
          path,
          query,
          headers: { 'content-type': 'image/jpeg', ...headers },
          body: bytes,
        });

      it(`answers ${PHOTO} with the task's JSON: model, engine, image, timings and its own fields`, async () => {
        const response = await post({}, image);
        assert.equal(response.status, 200, body(response));
        assert.match(response.headers['content-type'] ?? '', /application\/json/);
        const answer = json<Record<string, unknown>>(response);
        const receipt = task.receipt ? ['received'] : [];
        assert.deepEqual(Object.keys(answer).sort(), [...fields, ...receipt].sort());
        assert.equal(answer.model, model);
        assert.deepEqual(answer.image, UPRIGHT);
        const timings = answer.timings as Record<string, number>;
        for (const key of ['decodeMs', 'inferenceMs', 'totalMs'])
          assert.ok((timings[key] as number) >= 0, key);
      });

      it('text for Accept: text/plain; every picture by ?format= at the photo size', async () => {
        const text = await post({ accept: 'text/plain' }, image);
        assert.equal(text.status, 200, body(text));
        assert.match(text.headers['content-type'] ?? '', /text\/plain/);
        assert.ok(body(text).trim().length > 0);
        const [first] = Object.values(task.pictures ?? {});
        const anyImage = await post({ accept: 'image/*' }, image);
        assert.equal(anyImage.status, 200, body(anyImage));
        // image/*: the task's first picture; a task without pictures answers data (JSON).
        assert.equal(
          anyImage.headers['content-type']?.split(';')[0],
          first?.contentType ?? 'application/json',
        );
        for (const [name, picture] of Object.entries(task.pictures ?? {})) {
          const drawn = await post({}, image, `format=${name}`);
          assert.equal(drawn.status, 200, `${name}: ${body(drawn).slice(0, 300)}`);
          assert.equal(drawn.headers['content-type'], picture.contentType, name);
          const size = await sharp(drawn.body).metadata();
          assert.deepEqual([size.width, size.height], [UPRIGHT.width, UPRIGHT.height], name);
        }
      });

      it('a format it lacks → 400 bad_option naming its formats; not an image → 415; truncated → 400', async () => {
        const wrong = await post({}, image, 'format=nope');
        assert.equal(wrong.status, 400, body(wrong));
        const error = json<{ error: { code: string; message: string } }>(wrong).error;
        assert.equal(error.code, 'bad_option');
        for (const offer of offersOf(task)) assert.ok(error.message.includes(offer.format), error.message);
        const notImage = await post({}, new Uint8Array([0xc0, 0xff, 0xee, 0, 1, 2, 3]));
        assert.equal(notImage.status, 415, body(notImage));
        assert.equal(json<{ error: { code: string } }>(notImage).error.code, 'unsupported_image');
        const truncated = await post({}, image.subarray(0, 20000));
        assert.equal(truncated.status, 400, body(truncated));
        assert.equal(json<{ error: { code: string } }>(truncated).error.code, 'corrupt_image');
        const get = await invoke({ method: 'GET', path });
        assert.equal(get.status, 405, body(get));
      });
    });
  }
}
