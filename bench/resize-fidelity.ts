/**
 * `npm run bench:resize`: how far the `wasmedge_image` host functions' pixels (decode, then
 * stretch to exactly WxH; src/wasm/guest-decode.ts) are from what WasmEdge's own hosts hand a
 * program, on every photo in the shared images folder, at the sizes WasmEdge programs ask for.
 *
 * The two references are real code, built here at bench time from Debian packages (never in
 * CI, never committed), each fed the photo's file bytes as the host is:
 *   - legacy (second-state/WasmEdge-image, wasmedge_image before 0.15): Boost.GIL read_image
 *     (libjpeg / libpng) + resize_view with bilinear_sampler (bench/reference/gil-bilinear.cpp);
 *   - 0.15 and later: stb_image + stb_image_resize2's easy API, default filter
 *     (bench/reference/stb-default.c), f32 through stbi_loadf (2.2 gamma).
 * A reference whose tools are missing is skipped with the packages to install; nothing is
 * installed by this script.
 *
 * Figures are absolute differences per channel value on the byte scale (floats x 255): mean
 * over all values, and the largest. They do not depend on the machine's load.
 *
 *   node dist/bench/resize-fidelity.js [--quick]   (--quick: three photos, published only with --publish-dir DIR)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STB_INCLUDE } from '../src/config/index.js';
import { LiteRtCompiledModelAdapter } from '../src/engine/litert-model.js';
import { openImage } from '../src/image/decode.js';
import { loadSharp } from '../src/image/sharp-module.js';
import { packageRoot, sharedDataDir } from '../src/store/paths.js';
import { createProgress } from '../src/util/progress.js';
import { decodeForGuest } from '../src/wasm/guest-decode.js';
import { type Figure, reported } from './figures.js';
import { machineLine, publish, publishing, type Row } from './publish.js';
import { round, table } from './stats.js';

const quick = process.argv.includes('--quick');

/** 224 (MobileNet, the classic), 192 (MoveNet Lightning, MobileNet 192), 128 (small MobileNets). */
const SIZES = ['224x224', '192x192', '128x128'] as const;
/**
 * Enlarging as well (both axes for most photos; the two widest only grow in height): a program
 * given a small photo does that. Measured, not classified.
 */
const ENLARGED = '1024x1024';
const MEASURED: readonly string[] = [...SIZES, ENLARGED];
/** The uint8 ImageNet model that takes each size (224: the Rust classic's, 128: the C classic's). */
const MODEL_FOR_SIZE: Record<(typeof SIZES)[number], string> = {
  '224x224': 'mobilenet_v2_1.0_224_quant.tflite',
  '192x192': 'mobilenet_v1_0.75_192_quant.tflite',
  '128x128': 'mobilenet_v1_0.25_128_quant.tflite',
};
/** The decoder alone: the photo at its own size, no resize on either side. */
const DECODED = 'decoded';
const STB_GAMMA = 2.2;
const APT_GIL = 'apt-get install g++ libboost-dev libjpeg-dev libpng-dev';
const STB_HINT =
  "stb_image_resize2.h is in Debian's libstb-dev from trixie on (bookworm's 2022 snapshot has only v1): apt-get install libstb-dev there, or unpack that .deb anywhere and set TFLITE_FN_STB_INCLUDE to its usr/include/stb";

interface Photo {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Byte-scale values (floats x 255) per size, and per DECODED for the decoder alone. */
type Pixels = Map<string, Float32Array>;
interface HostOutput {
  readonly rgb8: Pixels;
  readonly rgb32f: Pixels;
}
/** trial*: ours with another choice (see sharpTrial), not what it does. */
type HostName = 'ours' | 'legacy' | 'current' | 'trialLinear' | 'trialFullDecode';
/** What a host hands the program for a photo, or why it refused the photo. */
type Host = (photo: Photo) => Promise<HostOutput | string>;

interface Comparison {
  readonly name: string;
  readonly a: readonly [HostName, keyof HostOutput];
  readonly b: readonly [HostName, keyof HostOutput];
  /** Undo stbi_loadf's gamma on b first, so that only the resize is compared. */
  readonly undoGamma?: boolean;
  /** A change we measured and did not make: in the summary, not in the per-photo table. */
  readonly trial?: boolean;
}

const COMPARISONS: readonly Comparison[] = [
  { name: 'ours rgb8 vs legacy rgb8', a: ['ours', 'rgb8'], b: ['legacy', 'rgb8'] },
  { name: 'ours rgb32f vs legacy rgb32f', a: ['ours', 'rgb32f'], b: ['legacy', 'rgb32f'] },
  { name: 'ours rgb8 vs 0.15 rgb8', a: ['ours', 'rgb8'], b: ['current', 'rgb8'] },
  {
    name: 'ours rgb32f vs 0.15 rgb32f as returned (2.2 gamma)',
    a: ['ours', 'rgb32f'],
    b: ['current', 'rgb32f'],
  },
  {
    name: 'ours rgb32f vs 0.15 rgb32f, gamma undone',
    a: ['ours', 'rgb32f'],
    b: ['current', 'rgb32f'],
    undoGamma: true,
  },
  { name: 'legacy rgb8 vs 0.15 rgb8 (WasmEdge vs WasmEdge)', a: ['legacy', 'rgb8'], b: ['current', 'rgb8'] },
  {
    name: 'trial: ours with a linear filter (before) vs 0.15 rgb8',
    a: ['trialLinear', 'rgb8'],
    b: ['current', 'rgb8'],
    trial: true,
  },
  {
    name: 'trial: ours with a linear filter (before) vs legacy rgb8',
    a: ['trialLinear', 'rgb8'],
    b: ['legacy', 'rgb8'],
    trial: true,
  },
  {
    name: 'trial: ours with full-size JPEG decodes vs 0.15 rgb8',
    a: ['trialFullDecode', 'rgb8'],
    b: ['current', 'rgb8'],
    trial: true,
  },
];

function compile(dir: string, compiler: string, source: string, flags: readonly string[]): string {
  const binary = join(dir, source.replace(/\.\w+$/, ''));
  const result = spawnSync(
    compiler,
    ['-O2', '-o', binary, join(packageRoot(), 'bench', 'reference', source), ...flags],
    { encoding: 'utf8' },
  );
  if (result.error) throw new Error(`${compiler} is not installed`);
  if (result.status !== 0) {
    const first = result.stderr.split('\n').find((line) => /error/.test(line)) ?? result.stderr.trim();
    throw new Error(`${source} did not build: ${first.slice(0, 200)}`);
  }
  return binary;
}

/**
 * Runs a reference program on the photo's bytes. Its stdout holds each size in MEASURED order,
 * then the decoded image (asked for as 0x0), whose length is whatever is left.
 */
function runReference(
  binary: string,
  args: readonly string[],
  photo: Photo,
  bytesPerValue: 1 | 4,
): Pixels | string {
  const run = spawnSync(binary, [...args, ...MEASURED, '0x0'], { input: photo.bytes, maxBuffer: 1 << 30 });
  if (run.status !== 0) return run.stderr.toString().trim() || `exit status ${run.status}`;
  const out: Pixels = new Map();
  let offset = 0;
  for (const size of MEASURED) {
    const [w, h] = size.split('x').map(Number) as [number, number];
    const length = w * h * 3 * bytesPerValue;
    out.set(size, toByteScale(run.stdout.subarray(offset, offset + length), bytesPerValue));
    offset += length;
  }
  out.set(DECODED, toByteScale(run.stdout.subarray(offset), bytesPerValue));
  return out;
}

function toByteScale(raw: Uint8Array, bytesPerValue: 1 | 4): Float32Array {
  if (bytesPerValue === 1) return Float32Array.from(raw);
  // A copy of its own: a Buffer's subarray shares (and starts mid-way into) a larger pool.
  return new Float32Array(Uint8Array.from(raw).buffer).map((value) => value * 255);
}

/** The legacy host's floats: its normalizeImg divides each byte by 255 into a float. */
const legacyFloats = (rgb8: Pixels): Pixels =>
  new Map([...rgb8].map(([size, values]) => [size, values.map((v) => Math.fround(v / 255) * 255)]));

function legacyHost(dir: string): { host: Host; version: string } | string {
  try {
    const binary = compile(dir, 'g++', 'gil-bilinear.cpp', ['-std=c++17', '-ljpeg', '-lpng']);
    const boost = readFileSync('/usr/include/boost/version.hpp', 'utf8').match(/BOOST_LIB_VERSION "([^"]+)"/);
    return {
      version: `Boost.GIL ${boost?.[1]?.replace('_', '.') ?? '?'} with ${packageVersion('libjpeg62-turbo')} and ${packageVersion('libpng16-16')}`,
      host: async (photo) => {
        const rgb8 = runReference(binary, [], photo, 1);
        return typeof rgb8 === 'string' ? rgb8 : { rgb8, rgb32f: legacyFloats(rgb8) };
      },
    };
  } catch (error) {
    return `${(error as Error).message} (${APT_GIL})`;
  }
}

function currentHost(dir: string): { host: Host; version: string } | string {
  const stbDir = STB_INCLUDE.value();
  if (!existsSync(join(stbDir, 'stb_image_resize2.h')) || !existsSync(join(stbDir, 'stb_image.h')))
    return `no stb_image.h and stb_image_resize2.h in ${stbDir}: ${STB_HINT}`;
  try {
    // stb_image_resize2 gives the same bits on every CPU only without FMA contraction.
    const binary = compile(dir, 'gcc', 'stb-default.c', [`-I${stbDir}`, '-ffp-contract=off', '-lm']);
    return {
      version: `${headerVersion(join(stbDir, 'stb_image.h'))} and ${headerVersion(join(stbDir, 'stb_image_resize2.h'))} from ${STB_INCLUDE.read() ? STB_INCLUDE.name : stbDir}`,
      host: async (photo) => {
        const rgb8 = runReference(binary, ['u8'], photo, 1);
        const rgb32f = runReference(binary, ['f32'], photo, 4);
        if (typeof rgb8 === 'string') return rgb8;
        return typeof rgb32f === 'string' ? rgb32f : { rgb8, rgb32f };
      },
    };
  } catch (error) {
    return `${(error as Error).message} (apt-get install gcc; ${STB_HINT})`;
  }
}

/** Our host's pixels, through the very function the guest's host call runs. */
const oursHost: Host = async (photo) => {
  const rgb8: Pixels = new Map();
  const rgb32f: Pixels = new Map();
  const deadline = Date.now() + 60_000;
  for (const size of MEASURED) {
    const [width, height] = size.split('x').map(Number) as [number, number];
    const request = { op: 'decode', image: photo.bytes, width, height } as const;
    rgb8.set(size, toByteScale(await decodeForGuest({ ...request, layout: 'rgb8' }, deadline), 1));
    rgb32f.set(size, toByteScale(await decodeForGuest({ ...request, layout: 'rgb32f' }, deadline), 4));
  }
  const opened = await openImage(photo.bytes);
  const decoded = await opened.pipeline.clone().removeAlpha().raw().toBuffer();
  rgb8.set(DECODED, toByteScale(decoded, 1));
  return { rgb8, rgb32f };
};

/**
 * Ours with another choice, to show what it would change: the linear filter the host used
 * before (libvips's, enlarging too), or libvips decoding every JPEG at full size as stb does
 * (by default it decodes at 1/2, 1/4 or 1/8 when shrinking by 2x or more).
 */
function sharpTrial(kernel: 'linear' | 'mitchell', fullSizeDecode: boolean, sizes: readonly string[]): Host {
  return async (photo) => {
    const opened = await openImage(photo.bytes);
    const rgb8: Pixels = new Map();
    for (const size of sizes) {
      const [width, height] = size.split('x').map(Number) as [number, number];
      const data = await opened.pipeline
        .clone()
        .resize(width, height, { fit: 'fill', kernel, fastShrinkOnLoad: !fullSizeDecode })
        .removeAlpha()
        .raw()
        .toBuffer();
      rgb8.set(size, toByteScale(data, 1));
    }
    return { rgb8, rgb32f: new Map() };
  };
}

function headerVersion(file: string): string {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  return (
    first
      .match(/(stb_image\w*) - (v[\d.]+)/)
      ?.slice(1)
      .join(' ') ?? file
  );
}

function packageVersion(name: string): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own placeholders, not JavaScript's
  const format = '${Package} ${Version}';
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', format, name], { encoding: 'utf8' });
  return dpkg.status === 0 ? dpkg.stdout : name;
}

/** Mean and largest absolute difference between two equally long byte-scale arrays. */
function difference(a: Float32Array, b: Float32Array, undoGamma: boolean): { sum: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const theirs = b[i] as number;
    const value = undoGamma ? 255 * Math.max(0, theirs / 255) ** (1 / STB_GAMMA) : theirs;
    const d = Math.abs((a[i] as number) - value);
    sum += d;
    if (d > max) max = d;
  }
  return { sum, max };
}

interface Tally {
  sum: number;
  count: number;
  max: number;
  photos: number;
  worstPhotoMean: number;
}

const fmt = (value: number) => String(round(value, 2));

/** What a model is shown, per host: a program scaling 0.15's floats back to bytes sees its gamma. */
const VIEWS: readonly {
  readonly name: string;
  readonly host: HostName;
  readonly layout: keyof HostOutput;
}[] = [
  { name: 'ours', host: 'ours', layout: 'rgb8' },
  { name: 'legacy rgb8', host: 'legacy', layout: 'rgb8' },
  { name: '0.15 rgb8', host: 'current', layout: 'rgb8' },
  { name: '0.15 rgb32f x 255 (gamma)', host: 'current', layout: 'rgb32f' },
];

interface Classifier {
  top1(size: (typeof SIZES)[number], pixels: Float32Array): Promise<string>;
  dispose(): void;
}

/** The ImageNet models of MODEL_FOR_SIZE: top-1 label and its score (0-255) for some pixels. */
async function classifier(): Promise<Classifier> {
  const models = join(sharedDataDir(), 'models');
  const labels = readFileSync(join(models, 'imagenet_labels.txt'), 'utf8').split('\n');
  const engines = new Map<string, LiteRtCompiledModelAdapter>();
  for (const [size, file] of Object.entries(MODEL_FOR_SIZE))
    engines.set(size, await LiteRtCompiledModelAdapter.compile(readFileSync(join(models, file)), file));
  return {
    async top1(size, pixels) {
      const bytes = Uint8Array.from(pixels, (v) => Math.min(255, Math.max(0, Math.round(v))));
      const [scores] = (await engines.get(size)?.run([bytes])) ?? [];
      let best = 0;
      for (let i = 1; i < (scores?.length ?? 0); i++)
        if ((scores?.[i] ?? 0) > (scores?.[best] ?? 0)) best = i;
      // The first name of each class is enough to tell them apart.
      return `${labels[best]?.split(',')[0] ?? best} (${scores?.[best] ?? 0})`;
    },
    dispose: () => {
      for (const engine of engines.values()) engine.dispose();
    },
  };
}

function loadPhotos(): Photo[] {
  const dir = join(sharedDataDir(), 'images');
  const names = readdirSync(dir)
    .filter((name) => /\.(jpe?g|png|bmp)$/i.test(name))
    .sort();
  return (quick ? names.filter((name) => /grace_hopper|bird\.png|cat_720p/.test(name)) : names).map(
    (name) => ({
      name,
      bytes: readFileSync(join(dir, name)),
    }),
  );
}

/** Our host and its trials, and each reference that builds here (or why it is skipped). */
async function startHosts(dir: string) {
  const hosts = new Map<HostName, Host>([
    ['ours', oursHost],
    ['trialLinear', sharpTrial('linear', false, MEASURED)],
    // Enlarging decodes at full size anyway.
    ['trialFullDecode', sharpTrial('mitchell', true, SIZES)],
  ]);
  const sharp = await loadSharp();
  const versions = [`ours: sharp ${sharp.versions.sharp ?? '?'} (libvips ${sharp.versions.vips})`];
  for (const [name, label, made] of [
    ['legacy', 'legacy (Boost.GIL bilinear)', legacyHost(dir)],
    ['current', 'WasmEdge 0.15 (stb_image_resize2 default filter)', currentHost(dir)],
  ] as const) {
    if (typeof made === 'string') versions.push(`${label}: skipped, ${made}`);
    else {
      hosts.set(name, made.host);
      versions.push(`${label}: ${made.version}`);
    }
  }
  return { hosts, versions };
}

/** Adds one photo's differences to the tallies; returns its row at the first size. */
function compare(
  photo: Photo,
  outputs: Map<HostName, HostOutput>,
  tallies: Map<string, Tally>,
  refused: string[],
) {
  const row: Row = { photo: photo.name };
  for (const comparison of COMPARISONS) {
    if (!comparison.trial) row[comparison.name] = '-';
    const a = outputs.get(comparison.a[0])?.[comparison.a[1]];
    const b = outputs.get(comparison.b[0])?.[comparison.b[1]];
    for (const size of [...MEASURED, DECODED]) {
      const left = a?.get(size);
      const right = b?.get(size);
      if (!left || !right) continue;
      if (left.length !== right.length) {
        refused.push(
          `${photo.name}: ${comparison.name} at ${size}: ${left.length} values against ${right.length}`,
        );
        continue;
      }
      const { sum, max } = difference(left, right, comparison.undoGamma === true);
      const key = `${comparison.name}\t${size}`;
      const tally = tallies.get(key) ?? { sum: 0, count: 0, max: 0, photos: 0, worstPhotoMean: 0 };
      tally.sum += sum;
      tally.count += left.length;
      tally.max = Math.max(tally.max, max);
      tally.photos += 1;
      tally.worstPhotoMean = Math.max(tally.worstPhotoMean, sum / left.length);
      tallies.set(key, tally);
      if (size === SIZES[0] && !comparison.trial)
        row[comparison.name] = `${fmt(sum / left.length)} / ${fmt(max)}`;
    }
  }
  return row;
}

/** Counts, per size and view, photos given our top-1 label; returns the labels at the first size. */
async function classify(
  photo: Photo,
  outputs: Map<HostName, HostOutput>,
  models: Classifier,
  agreement: Map<string, { same: number; photos: number }>,
) {
  const row: Row = { photo: photo.name };
  const withoutScore = (label: string) => label.replace(/ \(\d+\)$/, '');
  for (const size of SIZES) {
    const ours = await models.top1(size, outputs.get('ours')?.rgb8.get(size) ?? new Float32Array());
    for (const view of VIEWS) {
      const pixels = outputs.get(view.host)?.[view.layout].get(size);
      const label = pixels ? await models.top1(size, pixels) : '-';
      if (size === SIZES[0]) row[view.name] = label;
      if (!pixels || view.host === 'ours') continue;
      const key = `${size}\t${view.name}`;
      const tally = agreement.get(key) ?? { same: 0, photos: 0 };
      tally.photos += 1;
      if (withoutScore(label) === withoutScore(ours)) tally.same += 1;
      agreement.set(key, tally);
    }
  }
  return row;
}

function summaryRows(tallies: Map<string, Tally>): Row[] {
  return COMPARISONS.flatMap(({ name: comparison }) =>
    [...MEASURED, DECODED].flatMap((size) => {
      const tally = tallies.get(`${comparison}\t${size}`);
      if (!tally) return [];
      return [
        {
          comparison,
          size: size === DECODED ? 'decoded, no resize' : size,
          photos: tally.photos,
          'mean |diff|': fmt(tally.sum / tally.count),
          'worst photo mean': fmt(tally.worstPhotoMean),
          'max |diff|': fmt(tally.max),
        },
      ];
    }),
  );
}

function agreementRows(agreement: Map<string, { same: number; photos: number }>): Row[] {
  return SIZES.map((size) => {
    const row: Row = { size, model: MODEL_FOR_SIZE[size] };
    for (const view of VIEWS.slice(1)) {
      const tally = agreement.get(`${size}\t${view.name}`);
      row[view.name] = tally ? `${tally.same} of ${tally.photos}` : '-';
    }
    return row;
  });
}

async function main(): Promise<void> {
  const photos = loadPhotos();
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-resize-ref-'));
  const { hosts, versions } = await startHosts(dir);
  for (const line of versions) console.log(line);
  const models = await classifier();
  const tallies = new Map<string, Tally>();
  const agreement = new Map<string, { same: number; photos: number }>();
  const [perPhoto, labelsPerPhoto, refused]: [Row[], Row[], string[]] = [[], [], []];
  const progress = createProgress('photos', photos.length);
  for (const [done, photo] of photos.entries()) {
    const outputs = new Map<HostName, HostOutput>();
    for (const [name, host] of hosts) {
      const output = await host(photo);
      if (typeof output === 'string') refused.push(`${photo.name}: ${name} refuses it (${output})`);
      else outputs.set(name, output);
    }
    perPhoto.push(compare(photo, outputs, tallies, refused));
    labelsPerPhoto.push(await classify(photo, outputs, models, agreement));
    progress.update(done + 1);
  }
  progress.finish();
  models.dispose();
  rmSync(dir, { recursive: true, force: true });

  const results = {
    photos: photos.length,
    versions,
    summary: summaryRows(tallies),
    perPhoto,
    agreement: agreementRows(agreement),
    labelsPerPhoto,
    refused,
  };
  console.log(table(results.summary));
  console.log(`\nPer photo at ${SIZES[0]} (mean / max):`);
  console.log(table(perPhoto));
  console.log('\nSame top-1 label as on our pixels:');
  console.log(table(results.agreement));
  console.log(`\nTop-1 (score) at ${SIZES[0]}:`);
  console.log(table(labelsPerPhoto));
  for (const line of refused) console.log(line);
  if (publishing()) console.log(`\nwrote ${writeDoc(results)} (${machineLine()})`);
  else console.log('\n--quick: not published');
}

/** At the first size: each comparison's mean difference, and each host's top-1 agreement with ours. */
function headlineFigures(summary: readonly Row[], agreement: readonly Row[]): Figure[] {
  const size = SIZES[0];
  const differences = summary
    .filter((row) => row.size === size)
    .map((row) => reported(`${row.comparison}: mean |diff| (byte scale)`, row['mean |diff|'], ''));
  const same = agreement.find((row) => row.size === size);
  const agreeing = VIEWS.slice(1).map((view) => {
    const value = same?.[view.name];
    return reported(`${view.name}: same top-1 label as ours`, value === '-' ? undefined : value, '');
  });
  return [...differences, ...agreeing];
}

function writeDoc(results: {
  photos: number;
  versions: readonly string[];
  summary: readonly Row[];
  perPhoto: readonly Row[];
  agreement: readonly Row[];
  labelsPerPhoto: readonly Row[];
  refused: readonly string[];
}): string {
  return publish({
    name: 'resize',
    title: 'wasmedge_image: our decode and stretch against WasmEdge’s two hosts',
    figuresHeading: `At ${SIZES[0]} (no issue sets a target: a comparison)`,
    figures: headlineFigures(results.summary, results.agreement),
    sections: [
      { text: REFERENCE_NOTE },
      { heading: 'Versions', text: results.versions.map((line) => `- ${line}`).join('\n') },
      {
        heading: `Summary over ${results.photos} photos`,
        text: 'Absolute difference per channel value on the byte scale (floats x 255): the mean over every value of every photo, the worst photo’s mean, and the largest single difference. The "trial" rows are ours with another choice: the linear filter it used before (libvips’s, enlarging too), or libvips decoding every JPEG at full size as stb does (by default it decodes at 1/2, 1/4 or 1/8 when shrinking that much).',
      },
      { rows: results.summary },
      { heading: `Per photo at ${SIZES[0]} (mean / max)`, rows: results.perPhoto },
      {
        heading: 'Does it change what a model says?',
        text: `Each host's pixels given to the uint8 ImageNet model of that size (224: the Rust classic's, 128: the C classic's): photos whose top-1 label is the one our pixels get. "0.15 rgb32f x 255" is 0.15's floats scaled back to bytes: what a model normalised for [0, 1] input sees through its gamma.`,
      },
      { rows: results.agreement },
      { heading: `Top-1 label (score of 255) at ${SIZES[0]}`, rows: results.labelsPerPhoto },
      ...(results.refused.length > 0
        ? [{ heading: 'Photos a host refuses', text: results.refused.map((line) => `- ${line}`).join('\n') }]
        : []),
    ],
  });
}

const REFERENCE_NOTE = `Every photo in the shared images folder is handed, as file bytes, to three hosts of the
\`wasmedge_image\` functions, which decode it and stretch it to exactly WxH (no crop):

- **ours** (src/wasm/guest-decode.ts): sharp/libvips decodes (EXIF orientation applied, alpha
  flattened onto white; a JPEG shrunk 2x or more is decoded at 1/2, 1/4 or 1/8 size) and
  shrinks with its Mitchell kernel, widened with the scale; an axis that grows is then
  enlarged with our Catmull-Rom on stb's pixel grid (src/image/catmull-rom.ts); rgb32f is
  byte/255.
- **legacy** (second-state/WasmEdge-image and WasmEdge's \`wasmedge_image\` plugin before 0.15,
  which the 0.2 \`wasmedge_tensorflow_interface\` programs were written against): Boost.GIL
  \`read_image\` into an 8-bit RGB image (JPEG through \`load_jpg\`, PNG through \`load_png\`;
  an RGBA PNG is refused)
  and \`resize_view\` with \`bilinear_sampler\` — corners mapped to corners, the four nearest
  pixels, no antialiasing, the result truncated to a byte; rgb32f is that byte/255. Real
  Boost.GIL, built by this bench from bench/reference/gil-bilinear.cpp. The legacy builds
  linked IJG libjpeg 9e; this one links Debian's libjpeg-turbo, as sharp does (its "decoded"
  row is 0), so how far IJG 9e's decode is from libjpeg-turbo's is not in these figures.
- **0.15** (WasmEdge >= 0.15, plugins/wasmedge_image/image_func.cpp): stb_image decodes to 3
  channels (alpha dropped, not flattened) and \`stbir_resize_uint8_linear\` /
  \`stbir_resize_float_linear\` (STBIR_RGB, default filter: Mitchell when shrinking,
  Catmull-Rom when enlarging, clamped edges) resizes. Its rgb32f comes from
  \`stbi_loadf_from_memory\`, which returns (byte/255)^2.2 for 8-bit images: the "as returned"
  row compares what a program receives, the "gamma undone" row raises it to 1/2.2 first to
  compare the resize alone. Real stb code, built by this bench from bench/reference/stb-default.c
  (WasmEdge's releases pin stb_image v2.30 with stb_image_resize2 v2.13 to v2.18; the version
  measured is under Versions).`;

await main();
