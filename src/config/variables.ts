/**
 * Every `TFLITE_FN_*` variable tflite-fn reads, declared once: this list is the only place the
 * code reads them (test/config.test.ts fails when another file does) and what the table in
 * docs/reference.md is written from (`npm run docs:config`). A limit decided in another module
 * is imported from it, not copied; the modules it imports must not import this one at load.
 */
import { delimiter } from 'node:path';
import { BATCH_LIMITS, DEFAULT_BATCH_DELAY_MS } from '../batch/limits.js';
import { BODY_LIMITS } from '../http/limits.js';
import {
  anyText,
  commaList,
  defineSetting,
  defineSettingWithDefault,
  type Env,
  oneOf,
  onOff,
  type Parser,
  type Setting,
  wholeNumber,
} from './setting.js';

const MIB = 1024 * 1024;

/** A PATH-style list of folders (':' on Linux and macOS, ';' on Windows); empty entries dropped. */
const folderList: Parser<string[]> = {
  type: 'folder list',
  accepted: "folders separated by ':' (';' on Windows)",
  parse: (text) => text.split(delimiter).filter((entry) => entry.length > 0),
};

// ---- every surface ------------------------------------------------------------------------

export const ENGINE_SETTINGS = ['auto', 'litert', 'ort'] as const;

export const ENGINE = defineSettingWithDefault({
  name: 'TFLITE_FN_ENGINE',
  summary: 'which engine runs the models: auto picks per model (as --engine)',
  parser: oneOf(ENGINE_SETTINGS),
  fallback: () => 'auto' as const,
  scope: ['all'],
});

export const THREADS = defineSetting({
  name: 'TFLITE_FN_THREADS',
  summary: 'inference threads per model (LiteRT uses at most 16)',
  parser: wholeNumber(1),
  default:
    'the CPUs this process may use, at most 4; 1 in the server, stream and Dapr workers and a one-shot CLI command',
  scope: ['all'],
});

export const MODELS = defineSetting({
  name: 'TFLITE_FN_MODELS',
  summary: 'extra model descriptor folders, beside the built-in ones',
  parser: folderList,
  default: 'none',
  scope: ['all'],
});

export const DEFAULT_MODEL = defineSettingWithDefault({
  name: 'TFLITE_FN_DEFAULT_MODEL',
  summary: "the model used when a command or request names none (when it is one of the task's models)",
  parser: anyText('model id', 'a model id'),
  fallback: () => 'imagenet',
  scope: ['all'],
});

export const CACHE_DIR = defineSetting({
  name: 'TFLITE_FN_CACHE_DIR',
  summary: 'where models, conversions and sample photos are cached',
  parser: anyText('folder', 'a folder'),
  default:
    'the bundled `.cache` beside package.json when there is one, else `$XDG_CACHE_HOME/tflite-fn` or `~/.cache/tflite-fn`, else `<tmp>/tflite-fn`',
  scope: ['all'],
});

export const MIRROR = defineSetting({
  name: 'TFLITE_FN_MIRROR',
  summary: 'folders set-up copies pinned files from when the network is not there',
  parser: folderList,
  default: "the shared data folder's `models/`, `images/` and `imagenet-sample/` when present",
  scope: ['all'],
});

/**
 * 32 MiB of bytes is far above any phone photo as a JPEG; 64 megapixels covers every phone
 * camera we know of short of the 100+ MP sensors, whose decode alone would need ~300 MB.
 */
export const MAX_BYTES = defineSettingWithDefault({
  name: 'TFLITE_FN_MAX_BYTES',
  summary: 'the largest image accepted, in bytes (read no further than this)',
  parser: wholeNumber(1, undefined, 'bytes'),
  fallback: () => 32 * MIB,
  scope: ['all'],
});

export const MAX_PIXELS = defineSettingWithDefault({
  name: 'TFLITE_FN_MAX_PIXELS',
  summary: 'the largest image accepted, width x height, read from the header before decoding',
  parser: wholeNumber(1, undefined, 'pixels'),
  fallback: () => 64_000_000,
  scope: ['all'],
});

/**
 * Vision models for a CPU function are a few MB (the built-in ones 0.5-4 MB; a float32
 * EfficientNet-B7, ~260 MB, is the far end); the limit bounds what a wrong `file:` or
 * `convert /dev/zero` costs.
 */
export const MAX_MODEL_BYTES = defineSettingWithDefault({
  name: 'TFLITE_FN_MAX_MODEL_BYTES',
  summary: 'the largest model or labels file read (also by convert and the sandbox)',
  parser: wholeNumber(1, undefined, 'bytes'),
  fallback: () => 512 * MIB,
  scope: ['all'],
});

/**
 * 40 megapixels: every phone's and most cameras' full-size photos. Measured on 2 loaded cores,
 * a picture of a 64 MP photo cost 0.4-1 GB of memory above the JSON answer's peak before
 * drawing streamed through libvips, and 0.17-0.4 GB with 1.5-3.6 s of CPU after (segment's
 * overlay the most memory: its mask layer is a full-size RGBA buffer; PNGs the most CPU). At
 * 40 MP a process drawing the costliest pictures peaks near 0.45 GB (test/picture-limit.test.ts).
 */
export const MAX_PICTURE_PIXELS = defineSettingWithDefault({
  name: 'TFLITE_FN_MAX_PICTURE_PIXELS',
  summary: 'the largest photo a picture (png/jpeg answer) is drawn for, width x height',
  parser: wholeNumber(1, undefined, 'pixels'),
  fallback: () => 40_000_000,
  scope: ['all'],
});

export const DEBUG = defineSettingWithDefault({
  name: 'TFLITE_FN_DEBUG',
  summary: "show LiteRT's own log lines on stderr",
  parser: onOff,
  fallback: () => false,
  scope: ['all'],
});

export const CPU_FEATURES = defineSetting({
  name: 'TFLITE_FN_CPU_FEATURES',
  summary: 'edit the CPU flags the int8 kernels follow (-avx512_vnni,-avx_vnni: as a CPU without VNNI)',
  parser: {
    type: 'comma list',
    accepted: '+flag or -flag items separated by commas (e.g. -avx512_vnni,-avx_vnni)',
    parse: (text) =>
      text.split(',').every((item) => item.trim() === '' || /^[+-][a-z0-9_]+$/.test(item.trim()))
        ? text
        : undefined,
  },
  default: 'the flags /proc/cpuinfo reports',
  scope: ['all'],
});

export const LITERT_WASM_DIR = defineSetting({
  name: 'TFLITE_FN_LITERT_WASM_DIR',
  summary: "the folder holding LiteRT's .wasm files, when a layer or bundler moved them",
  parser: anyText('folder', 'a folder'),
  default: '`wasm/` of the installed @litertjs/core',
  scope: ['all'],
});

// ---- HTTP: the server and the serverless functions ------------------------------------------

export const MODEL_REPOSITORY = defineSetting({
  name: 'TFLITE_FN_MODEL_REPOSITORY',
  summary: 'a model repository folder served over /v2 (a relative one is also looked up in the package)',
  parser: anyText('folder', 'a folder'),
  default: 'none: the model catalog is served',
  scope: ['server', 'serverless'],
});

export const REPOSITORY_POLL_MS = defineSettingWithDefault({
  name: 'TFLITE_FN_REPOSITORY_POLL_MS',
  summary: 'how often the model repository is polled for changes; 0 turns polling off',
  parser: wholeNumber(0, undefined, 'ms'),
  // A model dropped in is loaded within two polls (the file must hold still for one).
  fallback: () => 500,
  default: '500; a serverless function does not poll unless it is set (its files cannot change)',
  scope: ['server', 'serverless'],
});

export const CORS_ORIGINS = defineSettingWithDefault({
  name: 'TFLITE_FN_CORS_ORIGINS',
  summary: 'origins allowed to call from a browser (as serve --cors)',
  parser: {
    type: 'comma list',
    accepted: "'*' or origins separated by commas",
    parse: (text): '*' | string[] => (text.trim() === '*' ? '*' : (commaList('').parse(text) ?? [])),
  },
  fallback: (): '*' | string[] => [],
  default: 'none: CORS off',
  scope: ['server', 'serverless'],
});

export const STRICT_READINESS = defineSettingWithDefault({
  name: 'TFLITE_FN_STRICT_READINESS',
  summary:
    'GET /v2/health/ready waits for every model meant to serve (true, as Triton), or only for a worker (false)',
  parser: onOff,
  fallback: () => true,
  scope: ['server', 'serverless'],
});

// ---- the self-hosted server (serve): flags win over these -----------------------------------

export const PORT = defineSettingWithDefault({
  name: 'TFLITE_FN_PORT',
  summary: 'the port the server listens on (as --port; PORT is read when this is unset)',
  parser: wholeNumber(0, () => 65_535),
  alsoFrom: ['PORT'],
  fallback: () => 8080,
  scope: ['server'],
});

export const HOST = defineSettingWithDefault({
  name: 'TFLITE_FN_HOST',
  summary: 'the address the server listens on; 0.0.0.0 for all interfaces (as --host)',
  parser: anyText('address', 'a host name or IP address'),
  fallback: () => '127.0.0.1',
  scope: ['server'],
});

export const WORKERS = defineSetting({
  name: 'TFLITE_FN_WORKERS',
  summary: 'worker processes, each with its models (as --workers)',
  parser: wholeNumber(1),
  default: 'the CPUs this process may use',
  scope: ['server'],
});

export const QUEUE = defineSettingWithDefault({
  name: 'TFLITE_FN_QUEUE',
  summary: 'requests that may wait for a worker; more get 503 + Retry-After (as --queue)',
  parser: wholeNumber(0),
  fallback: () => 32,
  scope: ['server'],
});

export const MAX_BODY = defineSettingWithDefault({
  name: 'TFLITE_FN_MAX_BODY',
  summary: 'the largest request body, in bytes (as --max-body)',
  parser: wholeNumber(1, undefined, 'bytes'),
  fallback: () => BODY_LIMITS.server.maxBytes,
  scope: ['server'],
});

export const TIMEOUT_MS = defineSettingWithDefault({
  name: 'TFLITE_FN_TIMEOUT_MS',
  summary: 'the whole-request deadline: receiving the body and running the task (as --timeout)',
  parser: wholeNumber(100, undefined, 'ms'),
  fallback: () => 30_000,
  scope: ['server'],
});

export const API_KEY = defineSetting({
  name: 'TFLITE_FN_API_KEY',
  summary:
    'require x-api-key or Authorization: Bearer with this key on the task routes and /models (as --api-key)',
  parser: anyText('secret', 'a key'),
  default: 'none: no authentication',
  scope: ['server'],
});

export const PRELOAD = defineSetting({
  name: 'TFLITE_FN_PRELOAD',
  summary: "models every worker loads and warms before the server is ready; '' for none (as --preload)",
  parser: anyText('comma list', "model ids separated by commas, or 'all'"),
  blankIsValue: true,
  default: 'TFLITE_FN_DEFAULT_MODEL, else imagenet',
  scope: ['server'],
});

export const BATCH_MAX = defineSetting({
  name: 'TFLITE_FN_BATCH_MAX',
  summary:
    "items per engine call for the models TFLITE_FN_BATCH_MODELS names, over their descriptors' batch: (1: off; as --batch-max)",
  parser: wholeNumber(1, () => BATCH_LIMITS.maxBatchSize),
  default: "each model's descriptor (without a batch: section, 1)",
  scope: ['server'],
});

export const BATCH_DELAY_MS = defineSetting({
  name: 'TFLITE_FN_BATCH_DELAY_MS',
  summary: 'how long a lone request waits for company in a batch (as --batch-delay-ms)',
  parser: wholeNumber(0, () => BATCH_LIMITS.maxQueueDelayMs, 'ms'),
  default: () => `each model's descriptor, else ${DEFAULT_BATCH_DELAY_MS}`,
  scope: ['server'],
});

export const BATCH_MODELS = defineSettingWithDefault({
  name: 'TFLITE_FN_BATCH_MODELS',
  summary:
    'the models TFLITE_FN_BATCH_MAX and TFLITE_FN_BATCH_DELAY_MS apply to; the others keep their descriptor',
  parser: commaList("model ids separated by commas, or 'all'"),
  fallback: () => ['all'],
  default: 'all',
  scope: ['server'],
});

export const WORKER_NICE = defineSetting({
  name: 'TFLITE_FN_WORKER_NICE',
  summary: "set by the server for each worker it starts: the worker's CPU niceness (not for operators)",
  parser: wholeNumber(-20, () => 19),
  default: 'unset: the niceness the worker inherits',
  scope: ['server'],
});

export const OFFLINE_PACKAGE = defineSettingWithDefault({
  name: 'TFLITE_FN_OFFLINE_PACKAGE',
  summary:
    '`serverless package` does not ask AWS for the deployed stack, even with credentials (platforms/serverless-v3-compat.cjs)',
  parser: onOff,
  fallback: () => false,
  default: 'false; packaging is offline anyway when no AWS credentials are set',
  scope: ['serverless'],
});

// ---- a wasm program behind the HTTP app (the sandbox) ----------------------------------------

export const PROGRAM = defineSetting({
  name: 'TFLITE_FN_PROGRAM',
  summary: 'a .wasm program served at its route: the request body is its stdin, its stdout the answer',
  parser: anyText('file', 'a .wasm file'),
  default: 'none',
  scope: ['sandbox'],
});

export const NN_PRELOAD = defineSetting({
  name: 'TFLITE_FN_NN_PRELOAD',
  summary: 'the models the program loads by name (WASI-NN load_by_name), as --nn-preload',
  parser: {
    type: 'list',
    accepted: 'NAME:ENCODING:TARGET:PATH entries separated by spaces',
    parse: (text) => text.split(/\s+/).filter(Boolean),
  },
  default: 'none',
  scope: ['sandbox'],
});

export const NN_GUEST_ONNX = defineSettingWithDefault({
  name: 'TFLITE_FN_NN_GUEST_ONNX',
  summary: 'let a program hand onnx model bytes to WASI-NN itself (they run natively, outside the sandbox)',
  parser: onOff,
  fallback: () => false,
  scope: ['sandbox'],
});

// ---- streams: NATS and Dapr -------------------------------------------------------------------

export const NATS = defineSettingWithDefault({
  name: 'TFLITE_FN_NATS',
  summary: 'the NATS server of `tflite-fn stream` (as --server)',
  parser: anyText('URL', 'a NATS URL'),
  fallback: () => 'nats://127.0.0.1:4222',
  scope: ['stream'],
});

export const DAPR_PUBSUB = defineSettingWithDefault({
  name: 'TFLITE_FN_DAPR_PUBSUB',
  summary: 'the Dapr pub/sub component the app subscribes through',
  parser: anyText('name', 'a component name'),
  fallback: () => 'pubsub',
  scope: ['stream'],
});

export const DAPR_TOPIC = defineSettingWithDefault({
  name: 'TFLITE_FN_DAPR_TOPIC',
  summary: 'the Dapr topic images arrive on',
  parser: anyText('name', 'a topic name'),
  fallback: () => 'frames',
  scope: ['stream'],
});

export const DAPR_RESULTS_TOPIC = defineSettingWithDefault({
  name: 'TFLITE_FN_DAPR_RESULTS_TOPIC',
  summary: 'the Dapr topic answers are published to',
  parser: anyText('name', 'a topic name'),
  fallback: () => 'results',
  scope: ['stream'],
});

export const DAPR_TASK = defineSettingWithDefault({
  name: 'TFLITE_FN_DAPR_TASK',
  summary: 'the task the Dapr app runs on every image (a task id)',
  parser: anyText('task id', 'a task id'),
  fallback: () => 'classify',
  scope: ['stream'],
});

// ---- development, tests and benchmarks -------------------------------------------------------

export const SHARED_DIR = defineSetting({
  name: 'TFLITE_FN_SHARED_DIR',
  summary: 'the read-only data folder of CI and development machines (models, photos, the ImageNet sample)',
  parser: anyText('folder', 'a folder'),
  default: '`shared/` beside the project folder',
  scope: ['development'],
});

export const IMAGENET_SAMPLE = defineSetting({
  name: 'TFLITE_FN_IMAGENET_SAMPLE',
  summary: 'the ImageNet sample folder the accuracy benchmark reads',
  parser: anyText('folder', 'a folder'),
  default: '`imagenet-sample/` of the shared data folder',
  scope: ['development'],
});

export const STB_INCLUDE = defineSettingWithDefault({
  name: 'TFLITE_FN_STB_INCLUDE',
  summary: 'the folder holding stb_image.h and stb_image_resize2.h for the resize-fidelity benchmark',
  parser: anyText('folder', 'a folder'),
  fallback: () => '/usr/include/stb',
  scope: ['development'],
});

export const LAMBDA_RIC = defineSetting({
  name: 'TFLITE_FN_LAMBDA_RIC',
  summary:
    "aws-lambda-ric's bin/index.mjs: the layer smoke test and serverless benchmark run the real runtime client",
  parser: anyText('file', 'a file'),
  default: 'none: a stand-in runtime client',
  scope: ['development'],
});

/** Every variable, in the order the table lists them. */
export const VARIABLES: readonly Setting<unknown>[] = [
  ENGINE,
  THREADS,
  MODELS,
  DEFAULT_MODEL,
  CACHE_DIR,
  MIRROR,
  MAX_BYTES,
  MAX_PIXELS,
  MAX_MODEL_BYTES,
  MAX_PICTURE_PIXELS,
  DEBUG,
  CPU_FEATURES,
  LITERT_WASM_DIR,
  MODEL_REPOSITORY,
  REPOSITORY_POLL_MS,
  CORS_ORIGINS,
  STRICT_READINESS,
  PORT,
  HOST,
  WORKERS,
  QUEUE,
  MAX_BODY,
  TIMEOUT_MS,
  API_KEY,
  PRELOAD,
  BATCH_MAX,
  BATCH_DELAY_MS,
  BATCH_MODELS,
  WORKER_NICE,
  OFFLINE_PACKAGE,
  PROGRAM,
  NN_PRELOAD,
  NN_GUEST_ONNX,
  NATS,
  DAPR_PUBSUB,
  DAPR_TOPIC,
  DAPR_RESULTS_TOPIC,
  DAPR_TASK,
  SHARED_DIR,
  IMAGENET_SAMPLE,
  STB_INCLUDE,
  LAMBDA_RIC,
];

/** Reads every variable once: a bad value stops a command as it starts, not at its first use. */
export function checkVariables(env: Env = process.env): void {
  for (const setting of VARIABLES) setting.read(env);
}
