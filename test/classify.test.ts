import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, defaultCatalog, render } from '../src/index.js';
import { CLASSIC_GRACE_HOPPER, photo } from './helpers.js';

describe('classify', () => {
  it('sees a military uniform on Grace Hopper, with the JSON fields API clients rely on', async () => {
    const result = await classify(photo('grace_hopper.jpg'));
    assert.equal(result.model, 'imagenet');
    assert.equal(result.engine, 'ort'); // set-up converted and verified the default model
    assert.equal(result.label, 'military uniform');
    assert.equal(result.index, 653);
    assert.ok(result.score > 0.5 && result.score <= 1, `score ${result.score}`);
    assert.equal(result.top.length, 5);
    assert.deepEqual(result.top[0], { label: result.label, index: result.index, score: result.score });
    for (let i = 1; i < result.top.length; i++) {
      assert.ok(
        (result.top[i - 1]?.score ?? 0) >= (result.top[i]?.score ?? 0),
        'top-k is sorted, best first',
      );
    }
    assert.equal(
      result.resize,
      'cover',
      'cover is the default: it measured 0.876 top-1 against 0.822 for fill',
    );
    assert.deepEqual(result.image, { format: 'jpeg', width: 517, height: 606 });
    for (const key of ['decodeMs', 'inferenceMs', 'totalMs'] as const) {
      assert.ok(result.timings[key] > 0, `${key} is measured`);
    }
    assert.ok(result.timings.totalMs >= result.timings.inferenceMs);
    const json = JSON.parse(render(result, 'json')) as { label: string };
    assert.equal(json.label, 'military uniform');
  });

  it('prints the classic WasmEdge sentence byte for byte when the photo is stretched as WasmEdge does', async () => {
    const result = await classify(photo('grace_hopper.jpg'), { resize: 'fill' });
    assert.equal(render(result, 'sentence'), CLASSIC_GRACE_HOPPER);
  });

  it('words a less certain answer as WasmEdge does ("is likely" between 125 and 200 of 255)', async () => {
    // With the centre crop the uniform fills less of the frame: 140/255 measured.
    const result = await classify(photo('grace_hopper.jpg'), { resize: 'cover' });
    assert.ok(result.score * 255 > 125 && result.score * 255 <= 200, `score ${result.score * 255}/255`);
    assert.equal(
      result.sentence,
      "It is likely a <a href='https://www.google.com/search?q=military uniform'>military uniform</a> in the picture",
    );
  });

  it('renders plain text as one "score  label" line per label', async () => {
    const result = await classify(photo('grace_hopper.jpg'), { top: 3 });
    const lines = render(result, 'text').split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^0\.\d{4} {2}military uniform$/);
  });

  it('names the Purple Gallinule with the birds model', async () => {
    // Measured: 0.886 for Porphyrio martinicus, next best 0.016 (Gray-headed Swamphen).
    const result = await classify(photo('PurpleGallinule.jpg'), { model: 'birds' });
    assert.equal(result.label, 'Porphyrio martinicus (Purple Gallinule)');
    assert.ok(result.score > 0.8);
  });

  it('names the seven-spotted ladybird with the insects model', async () => {
    // Measured: 0.898 for Coccinella septempunctata, the species in ladybug.jpg.
    const result = await classify(photo('ladybug.jpg'), { model: 'insects' });
    assert.equal(result.label, 'Coccinella septempunctata (Seven-spotted Ladybird)');
    assert.ok(result.score > 0.8);
  });

  it('loads each model once per process and reuses it', async () => {
    const catalog = defaultCatalog();
    const first = await catalog.load('imagenet');
    await classify(photo('hot_dog.jpg'));
    assert.equal(await catalog.load('imagenet'), first);
  });

  it('gives 50 parallel calls the same answers as sequential ones', async () => {
    const names = ['grace_hopper.jpg', 'hot_dog.jpg', 'parrot.jpg', 'cat.bmp', 'bird.png'];
    const sequential = [];
    for (const name of names) sequential.push(await classify(photo(name), { top: 5 }));
    const calls = Array.from({ length: 50 }, (_, i) => {
      const name = names[i % names.length] as string;
      return classify(photo(name), { top: 5, model: i % 7 === 0 ? 'imagenet-small' : 'imagenet' }).then(
        (r) => ({ i, r }),
      );
    });
    for (const { i, r } of await Promise.all(calls)) {
      if (r.model !== 'imagenet') continue;
      assert.deepEqual(r.top, sequential[i % names.length]?.top, `call ${i}`);
    }
  });
});
