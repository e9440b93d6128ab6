/**
 * A deployment shipping a model repository (TFLITE_FN_MODEL_REPOSITORY): one model, not in the
 * catalog, answers the Open Inference Protocol and the task routes by name, on every surface
 * that runs it. The model is a copy of a built-in one (imagenet-small), so its verified
 * conversion, found by its sha256, is already in every bundled cache: on Netlify, which has no
 * LiteRT, it runs on onnxruntime as a version `tflite-fn convert --model-repository` converted.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { HttpResponseParts } from '../../handlers/dev/lambda-events.js';
import { classify } from '../../src/classify.js';
import { modelCacheDir } from '../../src/store/paths.js';
import { photo } from '../helpers.js';
import type { Invoke, InvokeRequest } from './suite.js';

/** The folder at the project root a deployment ships, as serverless.yml, vercel.json and netlify.toml name it. */
export const REPOSITORY_FOLDER = 'model-repository';
/** A name the catalog does not hold: only the repository can answer for it. */
export const REPOSITORY_MODEL = 'shipped-classifier';

const CONFIG = `task: classify
input: { name: input, width: 128, height: 128, format: rgb8 }
output: { name: MobilenetV1/Predictions/Reshape_1, labels: { file: labels.txt } }
`;

export interface RepositoryFixture {
  /** Its files, relative to the project root: what a platform's package must ship. */
  readonly files: readonly string[];
  /** The deployment's setting that serves it. */
  readonly env: Readonly<Record<string, string>>;
}

/** `model-repository/shipped-classifier/{config.yaml,labels.txt,1/model.tflite}` under `root`. */
export function repositoryFixture(root: string): RepositoryFixture {
  const model = join(REPOSITORY_FOLDER, REPOSITORY_MODEL);
  mkdirSync(join(root, model, '1'), { recursive: true });
  writeFileSync(join(root, model, 'config.yaml'), CONFIG);
  copyFileSync(join(modelCacheDir(), 'imagenet_labels.txt'), join(root, model, 'labels.txt'));
  copyFileSync(
    join(modelCacheDir(), 'mobilenet_v1_0.25_128_quant.tflite'),
    join(root, model, '1', 'model.tflite'),
  );
  return {
    files: ['config.yaml', 'labels.txt', '1/model.tflite'].map((file) => `${model}/${file}`),
    env: { TFLITE_FN_MODEL_REPOSITORY: REPOSITORY_FOLDER },
  };
}

/** What the repository's model must say about grace_hopper.jpg: the built-in model it copies. */
export async function expectedLabel(): Promise<string> {
  return (await classify(photo('grace_hopper.jpg'), { model: 'imagenet-small' })).label;
}

const json = <T>(response: HttpResponseParts) => JSON.parse(new TextDecoder().decode(response.body)) as T;

/** The suite's requests, in order: an OIP infer, then a classification by name. */
export function repositoryRequests(prefix: string): [infer: InvokeRequest, classify: InvokeRequest] {
  const tensor = {
    inputs: [
      { name: 'input', datatype: 'UINT8', shape: [1, 128, 128, 3], data: new Array(128 * 128 * 3).fill(0) },
    ],
  };
  return [
    {
      method: 'POST',
      path: `${prefix}/v2/models/${REPOSITORY_MODEL}/infer`,
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode(JSON.stringify(tensor)),
    },
    {
      method: 'POST',
      path: `${prefix}/classify`,
      query: `model=${REPOSITORY_MODEL}`,
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(photo('grace_hopper.jpg')),
    },
  ];
}

export function describeRepositoryConformance(
  platform: string,
  invoke: Invoke,
  options: {
    readonly prefix: string;
    readonly expected: () => string;
    /** The engine the classification must report, where the platform has only one. */
    readonly engine?: 'ort' | 'litert';
  },
): void {
  const [inferRequest, classifyRequest] = repositoryRequests(options.prefix);
  describe(`${platform}: serving a shipped model repository`, () => {
    it(`POST /v2/models/${REPOSITORY_MODEL}/infer with a UINT8 tensor → its outputs, version 1`, async () => {
      const response = await invoke(inferRequest);
      const body = json<{
        model_name: string;
        model_version: string;
        outputs: { shape: number[]; data: number[] }[];
      }>(response);
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.model_name, REPOSITORY_MODEL);
      assert.equal(body.model_version, '1');
      assert.deepEqual(body.outputs[0]?.shape, [1, 1001]);
      assert.equal(body.outputs[0]?.data.length, 1001);
    });

    it(`POST /classify?model=${REPOSITORY_MODEL} → the label of the model it ships`, async () => {
      const response = await invoke(classifyRequest);
      const body = json<{ model: string; label: string; engine: string }>(response);
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.model, REPOSITORY_MODEL);
      assert.equal(body.label, options.expected());
      if (options.engine) assert.equal(body.engine, options.engine);
    });
  });
}
