/**
 * The WasmEdge classic written against today's WasmEdge ABI (WASI-NN + wasmedge_image), run as
 * `wasmedge --nn-preload default:TensorflowLite:CPU:model.tflite prog.wasm < photo.jpg` would:
 * what it prints must be what tflite-fn's own classifier says of the same model, stretched the
 * same way. The same guest is the one the sandbox benchmark times (bench/sandbox.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { classify } from '../src/index.js';
import { parseNnPreload } from '../src/wasm/nn-preload.js';
import { runWasm } from '../src/wasm/sandbox.js';
import { buildGuest, haveClang } from './guests/build.js';
import { CLI, IMAGES, photo, SHARED_MODELS } from './helpers.js';

if (!haveClang() && process.env.CI) throw new Error('clang and wasi-libc are missing: .ci/run installs them');
const skip = haveClang() ? false : 'clang / wasi-libc not installed (apt-get install clang lld wasi-libc)';

const MODEL = join(SHARED_MODELS, 'mobilenet_v2_1.0_224_quant.tflite');
const PRELOAD = `default:TensorflowLite:CPU:${MODEL}`;
const PHOTOS = ['grace_hopper.jpg', 'food.jpg', 'hot_dog.jpg', 'ladybug.jpg', 'owl.jpg', 'sunflower.jpg'];
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The sentence tflite-fn prints for `name`, with the label unescaped as the C guest prints it. */
async function builtinSentence(name: string): Promise<string> {
  const result = await classify(photo(name), { model: 'imagenet', resize: 'fill' });
  const wording = result.sentence.slice(0, result.sentence.indexOf(' <a'));
  const tail = result.sentence.includes(' in the picture') ? ' in the picture' : '';
  return `${wording} <a href='https://www.google.com/search?q=${result.label}'>${result.label}</a>${tail}\n`;
}

describe('the WasmEdge classic over WASI-NN (test/guests/nn-classic.c)', { skip }, () => {
  let wasm = '';
  let program: Uint8Array;
  before(() => {
    wasm = buildGuest('nn-classic', { labels: join(SHARED_MODELS, 'imagenet_labels.txt') });
    program = readFileSync(wasm);
  });

  it('prints what the built-in classifier says of the same model, photo after photo, on the native engine', async () => {
    for (const name of PHOTOS) {
      const result = await runWasm(program, { stdin: photo(name), nnPreload: [parseNnPreload(PRELOAD)] });
      assert.equal(result.exitCode, 0, `${name}: ${text(result.stderr)}`);
      assert.equal(text(result.stdout), await builtinSentence(name), name);
      assert.deepEqual(result.engines, ['ort'], `${name}: the preloaded model runs where it converted`);
    }
  });

  it('tflite-fn run --nn-preload, as wasmedge is called', () => {
    const run = spawnSync(process.execPath, [CLI, 'run', '--nn-preload', PRELOAD, wasm], {
      input: readFileSync(join(IMAGES, 'grace_hopper.jpg')),
    });
    assert.equal(run.status, 0, text(run.stderr));
    assert.match(text(run.stdout), /^It is very likely a <a [^>]+>military uniform<\/a> in the picture\n$/);
  });

  it('without the preload, load_by_name fails with not_found and the program says so by its exit code', () => {
    const run = spawnSync(process.execPath, [CLI, 'run', wasm], {
      input: readFileSync(join(IMAGES, 'grace_hopper.jpg')),
    });
    assert.equal(run.status, 3, text(run.stderr));
    assert.match(text(run.stderr), /no model preloaded as 'default'/);
  });

  it('a body that is not an image: exit 2, the host says why', () => {
    const run = spawnSync(process.execPath, [CLI, 'run', '--nn-preload', PRELOAD, wasm], {
      input: 'not a jpeg',
    });
    assert.equal(run.status, 2);
    assert.match(text(run.stderr), /load_jpg: the data is not an image/);
  });
});
