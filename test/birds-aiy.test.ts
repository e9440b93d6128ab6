import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { classify, ModelCatalog } from '../src/index.js';
import { readTfliteModel } from '../src/tflite/read.js';
import { photo, SHARED_MODELS } from './helpers.js';

/** WasmEdge's birds_v1 and WASI-NN bird examples run this model (Google's AIY Vision birds V1). */
const MODEL = 'birds-aiy';

describe('birds-aiy, the AIY Vision birds classifier of the WasmEdge examples', () => {
  it('has one label per score: 965 lines, the last one the background class', () => {
    const labels = readFileSync(join(SHARED_MODELS, 'aiy_birds_V1_labelmap.txt'), 'utf8')
      .trimEnd()
      .split('\n');
    const file = 'lite-model_aiy_vision_classifier_birds_V1_3.tflite';
    const graph = readTfliteModel(new Uint8Array(readFileSync(join(SHARED_MODELS, file))), file).subgraphs[0];
    const output = graph?.tensors[graph.outputs[0] ?? -1];
    assert.equal(output?.name, 'module/prediction');
    assert.deepEqual(output?.shape, [1, labels.length]);
    assert.equal(labels.length, 965);
    assert.equal(labels.at(-1), 'Background');
  });

  it('names the Purple Gallinule, on the verified ONNX conversion', async () => {
    // Measured: 0.867 for Porphyrio martinicus, next 0.020 (Porphyrio poliocephalus).
    const result = await classify(photo('PurpleGallinule.jpg'), { model: MODEL });
    assert.equal(result.engine, 'ort', 'set-up converted and verified it');
    assert.equal(result.label, 'Porphyrio martinicus');
    assert.ok(result.score > 0.8, `score ${result.score}`);
  });

  it("names bird.bmp's Black-capped Chickadee, as the iNaturalist birds model does", async () => {
    // Measured: 0.918 for Poecile atricapillus (birds: the same species, 0.918).
    const result = await classify(photo('bird.bmp'), { model: MODEL });
    assert.equal(result.label, 'Poecile atricapillus');
    assert.ok(result.score > 0.8, `score ${result.score}`);
  });

  it('gives the same answer on LiteRT as on onnxruntime', async () => {
    const litert = new ModelCatalog({ warmUp: false, engine: 'litert' });
    const ort = new ModelCatalog({ warmUp: false, engine: 'ort' });
    try {
      for (const name of ['PurpleGallinule.jpg', 'bird.bmp', 'parrot.jpg']) {
        const [a, b] = await Promise.all([
          classify(photo(name), { model: MODEL, catalog: litert }),
          classify(photo(name), { model: MODEL, catalog: ort }),
        ]);
        assert.equal(a.engine, 'litert');
        assert.equal(b.engine, 'ort');
        assert.deepEqual(
          a.top.map((entry) => entry.label),
          b.top.map((entry) => entry.label),
          name,
        );
        assert.ok(Math.abs(a.score - b.score) <= 2 / 255, `${name}: ${a.score} vs ${b.score}`);
      }
    } finally {
      await Promise.all([litert.dispose(), ort.dispose()]);
    }
  });
});
