/** Usage text for `tflite-fn --help` and each command's `--help`. */
import { resolveText, VARIABLES } from '../../src/config/index.js';
import type { AnyTask } from '../../src/tasks/index.js';

/** `tflite-fn --help`: a line per task (from TASKS), then the other commands. */
export function mainHelp(tasks: readonly AnyTask[]): string {
  const lines = tasks.map(
    (task) => `  ${`tflite-fn ${task.id} FILE|DIR... [opts]`.padEnd(38)}${task.summary}`,
  );
  return MAIN_HELP.replace('TASK_LINES', lines.join('\n')).replace('ENV_LINES', environmentLines());
}

const HELP_WIDTH = 100;

/** The variables every command reads, from their declarations (src/config/variables.ts). */
function environmentLines(): string {
  const indent = ' '.repeat(28);
  return VARIABLES.filter((setting) => setting.scope.includes('all'))
    .map((setting) => {
      const text = `${setting.summary} (default: ${resolveText(setting.default).replace(/`/g, '')})`;
      const words = text.split(' ');
      const lines = [`  ${setting.name.padEnd(25)} `];
      for (const word of words) {
        const last = lines.length - 1;
        const current = lines[last] as string;
        if (current.length + word.length > HELP_WIDTH && current.trim() !== setting.name)
          lines.push(`${indent}${word}`);
        else lines[last] = current.endsWith(' ') ? `${current}${word}` : `${current} ${word}`;
      }
      return lines.join('\n');
    })
    .join('\n');
}

const MAIN_HELP = `tflite-fn: run TensorFlow Lite vision models on images (LiteRT, WebAssembly, or native
onnxruntime on models converted and verified at set-up)

Usage:
  tflite-fn < photo.jpg                 print the classic sentence for the photo on stdin
TASK_LINES
  tflite-fn run PROGRAM.wasm [ARGS]     run a WasmEdge TensorFlow program in the sandbox
  tflite-fn convert MODEL|FILE.tflite   convert a model to ONNX for the native engine, verified
  tflite-fn stream [--task T] [opts]    run a task on frames from a NATS JetStream queue
  tflite-fn stream-source VIDEO|DIR     publish every Nth video frame (or a folder's images)
  tflite-fn models [--json]             list models, their files and whether they are present
  tflite-fn setup [--offline]           fetch and verify model files and sample photos
  tflite-fn serve [options]             the self-hosted server (worker pool, demo page at /)
  tflite-fn dev --platform P            serve the lambda, vercel or netlify handler locally
  tflite-fn event FILE [--kind K]       print the AWS Lambda event for a photo (invoke local)

A task reads files, folders' images, --files-from lists or stdin (- or no file); --json,
--format F and --out F choose its answer. Run 'tflite-fn COMMAND --help' for a command's
options. Every command takes --engine auto|litert|ort (default auto: ort for models with a
verified ONNX conversion).

Environment (every variable, and where each applies: docs/reference.md#configuration):
ENV_LINES
`;

export const MODELS_HELP = `Usage: tflite-fn models [--json] [--models-dir DIR]

Lists every model: id, input size, where its files are and whether they are present.
`;

export const SETUP_HELP = `Usage: tflite-fn setup [--offline] [--quiet] [--no-convert] [--bundle]

Fetches the files of every model that pins them (sha256) and the sample photos into the cache
(~/.cache/tflite-fn; see TFLITE_FN_CACHE_DIR in tflite-fn --help), verifying each hash.
Without network, files are copied from TFLITE_FN_MIRROR (or ../shared when present). Files
already there with the right hash are kept. Then converts every model to ONNX for the native
engine and verifies each against LiteRT (see tflite-fn convert). Without set-up, a model's
files are fetched the same way on its first use.

Options:
  --offline      do not try the network; use mirror folders only
  --quiet        no progress bars
  --no-convert   skip the ONNX conversion (models then run on litert)
  --bundle       set up into .cache beside the package's package.json instead: a deployment
                 bundle's own cache, which then wins over the user's (npm install in a clone)
`;

export const CONVERT_HELP = `Usage: tflite-fn convert MODEL [--force] [--json]
       tflite-fn convert FILE.tflite [--out FILE.onnx]
       tflite-fn convert --model-repository DIR [--force] [--json]

MODEL (a model id, see tflite-fn models): converts its .tflite file to ONNX, runs LiteRT and
onnxruntime side by side on the verification photos (20 ImageNet photos for classifiers, face
photos for detectors), and stores the ONNX model with its report in the cache, where the
engine choice 'auto' finds it. Set-up does this for every model.

--model-repository DIR: the same for every version in a model repository (see serve), each
checked as the server checks it; a running server moves a version to onnxruntime on a later
poll. Exits 1 when a version could not be converted (each is listed with why).

FILE.tflite: converts only, writing FILE.onnx (or --out) and listing the operators; a model
with an operator the converter does not cover fails with its name. Such a file is not
verified: tflite-fn does not know how its inputs are prepared.

Options:
  --force    convert and verify again even if a report exists
  --json     print the report as JSON
  --out      where to write the .onnx (FILE.tflite only)
`;

export const DEV_HELP = `Usage: tflite-fn dev [--platform lambda|vercel|netlify] [--port N] [--host H] [--event KIND]

Serves a platform's real handler on a local port, handing it each request in that platform's
form: for lambda an AWS event (KIND: api-gateway-v2 (default), function-url, api-gateway-v1,
alb), base64 rules and the 6 MB limit included; for vercel and netlify a Web Request.

Options:
  -p, --platform P   lambda (default), vercel or netlify
      --port N       default 3000 (0 picks a free port)
      --host H       default 127.0.0.1
      --event KIND   the Lambda front door to emulate

As deployed, the handler reads TFLITE_FN_PROGRAM, TFLITE_FN_NN_PRELOAD and
TFLITE_FN_MODEL_REPOSITORY (a model repository, read once: not polled unless
TFLITE_FN_REPOSITORY_POLL_MS is set, as a deployed function's files cannot change).
`;

export const EVENT_HELP = `Usage: tflite-fn event FILE [--kind KIND] [--path P] [--query Q] [--content-type T] [--accept A]

Prints the AWS Lambda event that a front door sends for a POST of FILE, for example
  tflite-fn event photo.jpg > event.json
  npx serverless invoke local -f classify --path event.json

Options:
  --kind KIND          api-gateway-v2 (default), function-url, api-gateway-v1, alb
  --path P             default /classify
  --query Q            e.g. 'top=3&model=birds'
  --content-type T     default image/jpeg
  --accept A           default application/json
`;

export const SERVE_HELP = `Usage: tflite-fn serve [options]

The self-hosted inference server: POST /<task> for every task (as on every platform), GET /
(demo page), /models, /healthz, /readyz (ready once every worker has loaded and warmed its
models), /metrics (Prometheus). One JSON log line per request. SIGTERM: finish in-flight requests,
refuse new ones, exit.

Options (environment variable in brackets):
  --port N          default 8080 [TFLITE_FN_PORT, PORT]
  --host H          default 127.0.0.1; 0.0.0.0 for all interfaces [TFLITE_FN_HOST]
  --workers N       worker processes, each with its models; default: CPUs [TFLITE_FN_WORKERS]
  --queue N         requests that may wait for a worker; more get 503 + Retry-After; default 32 [TFLITE_FN_QUEUE]
  --max-body BYTES  largest request body; default 33554432 [TFLITE_FN_MAX_BODY]
  --timeout MS      per-request deadline; default 30000 [TFLITE_FN_TIMEOUT_MS]
  --api-key KEY     require x-api-key or Authorization: Bearer on the task routes, /models [TFLITE_FN_API_KEY]
  --cors ORIGINS    '*' or comma-separated origins allowed from browsers; default none [TFLITE_FN_CORS_ORIGINS]
  --preload IDS     models loaded before ready, comma-separated or 'all'; default imagenet [TFLITE_FN_PRELOAD]
  --batch-max N     dynamic batching: up to N concurrent requests for a model in one engine run; 1 is off;
                    overrides every model's batch: section (default: those decide; none: off); only models
                    verified batched on the native engine batch [TFLITE_FN_BATCH_MAX]
  --batch-delay-ms MS  how long a request waits for others to batch with; overrides the models' batch:
                    max_queue_delay_ms (default 5) [TFLITE_FN_BATCH_DELAY_MS]
  --model-repository DIR
                    serve DIR/<name>/<version>/model.tflite (+ DIR/<name>/config.yaml) over /v2,
                    newest version by default; changes are picked up by polling every
                    TFLITE_FN_REPOSITORY_POLL_MS (default 500) [TFLITE_FN_MODEL_REPOSITORY]
  --strict-readiness true|false
                    GET /v2/health/ready: true (default, as Triton) is 200 only when every model not
                    unloaded through the repository API has a READY version; false is 200 whenever a
                    worker can take work [TFLITE_FN_STRICT_READINESS]

Serving a WasmEdge-style program on POST /classify instead of the built-in classifier
(environment only; the same on every platform, and in tflite-fn dev):
  TFLITE_FN_PROGRAM     the .wasm: the request body is its stdin, its stdout the answer
  TFLITE_FN_NN_PRELOAD  the models it loads by name (WASI-NN load_by_name), as --nn-preload
                        takes them, separated by spaces: default:TensorflowLite:CPU:programs/m.tflite
`;

export const RUN_HELP = `Usage: tflite-fn run [options] PROGRAM.wasm [ARGS...] < input > output

Runs a wasm32-wasi program written for WasmEdge's TensorFlow Lite extension (host modules
wasmedge_tensorflowlite and wasmedge_image, legacy 0.2 ABI or errno-returning 0.3 ABI) in a
sandbox: stdin in, stdout and stderr (1 MB each at most) out, its exit status returned. It
sees no network, only the environment given with --env, and no files but those in
directories granted with --dir. As with \`wasmedge PROGRAM.wasm ...\`, every argument after
the program's path is the program's (--help included): tflite-fn's options come before it.

Options:
  --env NAME=VALUE   an environment variable for the program (repeatable)
  --dir GUEST:HOST   let the program use the host folder HOST as GUEST (repeatable); one path
                     means the same for both; add :ro to make it read-only
  --nn-preload NAME:ENCODING:TARGET:PATH
                     a model for WASI-NN's load_by_name, as with wasmedge (repeatable):
                     ENCODING TensorflowLite, ONNX or Autodetect; TARGET CPU; a PATH that
                     is no file but a model id (tflite-fn models) preloads that model
  --timeout MS       stop it after MS milliseconds (default 10000; exit status 124)
  --memory MB        its memory limit (default 512)
`;

export const STREAM_HELP = `Usage: tflite-fn stream [--server URL] [--in SUBJECT] [--out SUBJECT] [options]

A stream worker: takes frames (JPEG/PNG bytes, or with Frame-Body: object a reference to the
object store; Frame-Id and Frame-Source headers) from a NATS JetStream work queue on --in,
runs the task on each, and publishes a JSON result on --out (frame id, source, and the task's
JSON result as POST /<task> gives it), then acknowledges the frame. Start several: they share one durable
consumer. A frame that is not a usable image goes to the dead-letter subject with its error;
other failures are retried up to --max-deliver times.

Options:
  --server URL        NATS server (default nats://127.0.0.1:4222, or TFLITE_FN_NATS)
  --in SUBJECT        frames (default frames)
  --out SUBJECT       results (default results)
  --dead SUBJECT      dead letters (default <in>.dead)
  --task T            any task of 'tflite-fn --help' (default classify); results are its JSON
  --model NAME        the model (default: the task's default model)
  --concurrency N     frames in flight per worker (default 1: run one worker per core)
  --ack-wait MS       redeliver a frame not acknowledged in MS (default 10000)
  --max-deliver N     deliveries before a failing frame is dead-lettered (default 3)
`;

export const STREAM_SOURCE_HELP = `Usage: tflite-fn stream-source VIDEO|DIR [--every N] [--rate FPS] [--server URL] [--in SUBJECT]

Publishes frames for stream workers: from a video, every Nth frame (default 24) cut to JPEG
with ffmpeg; from a folder, each image in name order. Frame ids are the source name and
the frame number; publishing the same source again within 5 minutes adds nothing. Frames
above the broker's max_payload go through its object store. A file that cannot be published
is named with the reason and skipped; the exit status is then 1.

Options:
  --every N       every Nth video frame (default 24)
  --rate FPS      publish at most FPS frames a second (default: as fast as possible)
  --server, --in, --out, --dead   as for tflite-fn stream
`;

const FLAG_WIDTH = 24;

function optionLine(short: string | undefined, long: string, help: string): string {
  const flag = `${short ? `-${short}, ` : '    '}--${long}`;
  return `  ${flag.padEnd(FLAG_WIDTH - 1)} ${help}`;
}

/** `tflite-fn TASK --help`, from the task: its summary, flags, forms and pictures. */
export function taskHelp(task: AnyTask, formats: readonly string[], bare: boolean): string {
  const pictures = Object.entries(task.pictures ?? {});
  const width = Math.max(0, ...pictures.map(([name]) => name.length));
  return `Usage: tflite-fn ${task.id} [FILE|DIR...] [--files-from LIST] [options]
${bare ? '       tflite-fn [options] < photo.jpg\n' : ''}
${task.summary}.

Each image (stdin when no FILE is given, or for '-') gives one result, in order. A folder
stands for the image files directly inside it (.jpg .png .webp .gif .tiff .avif .bmp), sorted
by name. Inputs over TFLITE_FN_MAX_BYTES are refused while reading. A picture goes to --out,
or to stdout when stdout is not a terminal (one file at a time).

Options:
${[
  optionLine('m', 'model NAME', `model id (default: ${task.defaultModel}; see 'tflite-fn models')`),
  ...task.cli.flags.map((flag) =>
    optionLine(flag.short, flag.value ? `${flag.flag} ${flag.value}` : flag.flag, flag.help),
  ),
  optionLine('f', 'format FORMAT', `${formats.join(', ')} (default: ${task.cli.defaultFormat})`),
  optionLine(undefined, 'json', 'same as --format json (one JSON object per line)'),
  optionLine('o', 'out FILE', 'write the answer to FILE (a picture by its extension: .png, .jpg)'),
  optionLine(undefined, 'models-dir DIR', 'also load model descriptors from DIR (repeatable)'),
  optionLine(undefined, 'files-from LIST', 'also read the files LIST names, one per line (- for stdin)'),
  optionLine('h', 'help', 'this text'),
].join('\n')}
${pictures.length > 0 ? `\nPictures:\n${pictures.map(([name, picture]) => `  ${name.padEnd(width)}  ${picture.describes}`).join('\n')}\n` : ''}
Exit status: 0 when every image was answered, 1 when one failed, 2 for a usage error.
`;
}
