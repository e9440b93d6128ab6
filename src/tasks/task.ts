/**
 * What a vision task is. Every task (classify, detect, objects, segment, pose, embed) is one
 * folder under src/tasks/ whose index.ts exports one `Task`, and one line in
 * src/tasks/index.ts (TASKS). Everything else follows from that line: the descriptor schema
 * accepts `task: <id>` and the task's section, the catalog loads its models with the one
 * loader, the route table serves `POST /<id>` (and /api/<id>) on every platform, the CLI has
 * `tflite-fn <id>`, the server's pool runs it in its workers, the stream worker takes
 * `--task <id>`, the demo page offers it.
 *
 * A task only says what is particular to it: how an opened photo becomes the model's input,
 * how the model's outputs become its result, and how that result is shown. Reading requests,
 * opening images within limits, loading models once, timing, errors and negotiation are done
 * once for every task by src/tasks/run.ts and the surfaces.
 */
import type * as Zod from 'zod';
import type { EngineName } from '../engine/select.js';
import type { CompiledModel, TensorData } from '../engine/types.js';
import type { OpenedImage } from '../image/decode.js';
import type { TensorLayout } from '../image/to-tensor.js';
import type { FileRef, ModelDescriptor } from '../model/descriptor.js';

/**
 * Options as they arrive: query string, multipart fields, JSON fields or CLI flags (CLI flags
 * and query values are strings; JSON may carry numbers and booleans). Untrusted: a task's
 * parseOptions checks every value it reads and throws BadRequestError('bad_option', …).
 */
export type RawOptions = Readonly<Record<string, unknown>>;

/** What every task's result starts with (the classify and detect results already had these). */
export interface TaskResultBase {
  readonly model: string;
  readonly engine: string;
  /** The photo as received: its format and upright size (the size boxes and keypoints refer to). */
  readonly image: { readonly format: string; readonly width: number; readonly height: number };
  readonly timings: {
    /** Decode, orient, resize and lay out the pixels (every pass, for tiled tasks). */
    readonly decodeMs: number;
    readonly inferenceMs: number;
    /** From the call to the result, including any wait for the model to load. */
    readonly totalMs: number;
  };
}

/** The parts of a loaded model a task checks at load time. */
export interface ModelParts {
  readonly descriptor: ModelDescriptor;
  readonly engine: CompiledModel;
  /** The labels file's lines (trailing blank lines dropped); empty when the task has none. */
  readonly labels: readonly string[];
  /**
   * The original .tflite file's bytes, read (and sha256-checked) on first call: for tasks that
   * read constants or operator options from the model itself (SSD anchors and post-processing
   * settings). Not read otherwise: on the native engine the converted model stands in for it.
   */
  readonly tflite: () => Promise<Uint8Array>;
}

/**
 * A model ready to serve, built once per process per model by the catalog (src/model/load.ts):
 * engine compiled and warmed, descriptor checked, and `state` — whatever the task's
 * prepareModel built from it (output indices, anchors, keypoint names…).
 */
export interface LoadedModel<State = unknown> {
  readonly descriptor: ModelDescriptor;
  readonly engine: CompiledModel;
  readonly engineName: EngineName;
  /** Why that engine (a verified conversion, or why there is none). */
  readonly engineReason: string;
  readonly labels: readonly string[];
  /** How pixels become the image input tensor (from the descriptor's `input`). */
  readonly layout: TensorLayout;
  /** Which of the model's inputs is the image (the others are fed zeros). */
  readonly inputIndex: number;
  readonly state: State;
  readonly loadMs: number;
  readonly warmUpMs: number;
}

/** What a task's infer() gets: the opened photo, the model, and timed helpers. */
export interface InferContext<State> {
  readonly photo: OpenedImage;
  readonly model: LoadedModel<State>;
  /** Runs the model on one image tensor (other inputs zero), timed as inference. */
  run(imageTensor: TensorData): Promise<TensorData[]>;
  /** Runs a preparation step (resize, crop, lay out pixels), timed as decoding. */
  preparing<T>(step: () => Promise<T> | T): Promise<T>;
}

/** A picture a task can answer with: an annotated photo, a mask, a cut-out. */
export interface PictureRenderer<Result> {
  /** Response content type, e.g. image/png. */
  readonly contentType: 'image/png' | 'image/jpeg';
  /** One line for --help and the README. */
  readonly describes: string;
  /** `image` is the photo as received; the picture is at its upright size. */
  render(image: Uint8Array, result: Result): Promise<Uint8Array>;
}

/**
 * What the CLI prints after the last file's result: `text` normally, `json` as one more JSON
 * line when JSON was asked for (--json or --format json), so that output stays JSON lines.
 */
export interface TaskSummary {
  readonly text: string;
  readonly json: object;
}

/** A command-line flag of a task's subcommand, read into RawOptions under `option`. */
export interface TaskFlag {
  /** The flag without dashes: `threshold` for --threshold. */
  readonly flag: string;
  /** Key in RawOptions (the same name the HTTP query and JSON use). */
  readonly option: string;
  /** A one-letter alias (classify's -k for --top, -r for --resize). */
  readonly short?: string;
  /** Placeholder shown in help, e.g. 'N'; absent for a boolean flag (--no-tiling style). */
  readonly value?: string;
  readonly help: string;
}

export interface Task<Options = unknown, Result extends TaskResultBase = TaskResultBase, State = unknown> {
  /** The task's name: `task:` in descriptors, `tflite-fn <id>`, `POST /<id>`. Lowercase. */
  readonly id: string;
  /** One line: what the task answers (help, /models, the README's route list). */
  readonly summary: string;
  /** The built-in model used when a request names none. */
  readonly defaultModel: string;
  /**
   * The task's descriptor section: its key and its zod schema (built on first need with the
   * zod module passed in, so a process that only reads build-time snapshots never loads zod).
   * A descriptor with `task: <id>` must have this section unless `optional` is set.
   */
  readonly section?: {
    readonly key: string;
    readonly schema: (z: typeof Zod.z) => Zod.ZodType;
    readonly optional?: boolean;
  };
  /** The labels file a model of this task needs, if any (set-up fetches it; the loader reads it). */
  labelsOf?(descriptor: ModelDescriptor): FileRef | undefined;
  /**
   * The output whose highest value is the answer (classify's class scores, detect's anchor
   * scores): set-up checks that a converted model picks the same one as LiteRT on every
   * verification photo. The tensor's name, or undefined for a model's only output. Absent
   * (masks, keypoints, vectors): every output is compared by value tolerance only.
   */
  scoresOutput?(descriptor: ModelDescriptor): string | undefined;
  /**
   * Checks a freshly compiled model against its descriptor and builds the state inference
   * needs. Throws ModelLoadError naming what does not match: a mismatch fails at load, not per
   * request.
   */
  prepareModel(parts: ModelParts): State | Promise<State>;
  /** Checks and converts raw options; throws BadRequestError('bad_option', …) naming the option. */
  parseOptions(raw: RawOptions): Options;
  /** Photo in, result out (the TaskResultBase fields are added by the runner). */
  infer(context: InferContext<State>, options: Options): Promise<Omit<Result, keyof TaskResultBase>>;
  /** The result as JSON-ready data (default: the result itself). Drop what is not for JSON. */
  toJson?(result: Result): unknown;
  /** Plain text: a few human-readable lines, no trailing newline. */
  text(result: Result): string;
  /** HTML, where the task has a classic HTML answer (classify's WasmEdge sentence). */
  html?(result: Result): string;
  /**
   * HTTP JSON answers also carry `received: {bytes, sha256}` of the image as it arrived, so a
   * client can tell an upload mangled on its way (base64/UTF-8 bugs of front doors) from a
   * wrong answer. classify's answer has always had it; detect's never had.
   */
  readonly receipt?: boolean;
  /** Pictures by format name (`jpeg`, `png`, `mask`, `cutout`…); the first answers Accept: image/*. */
  readonly pictures?: Readonly<Record<string, PictureRenderer<Result>>>;
  /** The CLI subcommand: its extra flags (model, --json, --out, --format are common). */
  readonly cli: {
    readonly flags: readonly TaskFlag[];
    /** What the command prints without --json/--format: a text form or a picture name. */
    readonly defaultFormat: string;
    /** After every file's result: e.g. embed's cosine similarities between the images. */
    summarize?(results: readonly Result[], names: readonly string[]): TaskSummary | undefined;
  };
}
