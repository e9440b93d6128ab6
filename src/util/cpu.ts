/**
 * What this CPU can do, as far as our engines care. Development and CI machines change from
 * run to run (Intel with VNNI, AMD with only AVX2), and onnxruntime picks different int8
 * kernels on each: every benchmark result records these facts, and the engine reads them
 * here rather than guessing.
 *
 * TFLITE_FN_CPU_FEATURES edits the flags read from /proc/cpuinfo, e.g. `-avx512_vnni,-avx_vnni`
 * to take the int8 path of a CPU without VNNI on one that has it (tests and benchmarks do, so
 * both paths are proven on any machine), or `+avx_vnni` where the flags cannot be read.
 */
import { readFileSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { CPU_FEATURES } from '../config/index.js';
import { BadRequestError } from '../errors.js';

/** The instruction-set extensions that change which inference kernels run. */
const RELEVANT_FLAGS = [
  'sse4_1',
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512vl',
  'avx512_vnni',
  'avx_vnni',
  'avx512_bf16',
  'amx_int8',
  // arm64 names (from /proc/cpuinfo "Features")
  'asimd',
  'asimddp',
  'i8mm',
  'sve',
] as const;

export interface CpuFacts {
  readonly model: string;
  readonly cores: number;
  readonly arch: string;
  /** The relevant flags this CPU reports (after TFLITE_FN_CPU_FEATURES), in a fixed order. */
  readonly flags: readonly string[];
  /** Whether the CPU has an int8 dot-product instruction (x86 VNNI, arm64 dotprod). */
  readonly int8DotProduct: boolean;
  /** TFLITE_FN_CPU_FEATURES when it changed the flags: recorded so no figure hides it. */
  readonly featureOverride?: string;
}

function reportedFlags(): Set<string> {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
    return new Set(
      line
        .replace(/^[^:]*:/, '')
        .trim()
        .split(/\s+/),
    );
  } catch {
    return new Set(); // not Linux: no flags known (see int8KernelPath for what that means)
  }
}

/** Applies `-flag` / `+flag` edits; anything else is an error, not a guess. */
export function applyFeatureOverride(flags: Set<string>, override: string): Set<string> {
  const edited = new Set(flags);
  for (const item of override.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const match = /^([+-])([a-z0-9_]+)$/.exec(item);
    if (!match) {
      throw new BadRequestError(
        'bad_option',
        `TFLITE_FN_CPU_FEATURES takes +flag or -flag items separated by commas (e.g. -avx512_vnni,-avx_vnni); got '${item}'`,
      );
    }
    if (match[1] === '+') edited.add(match[2] as string);
    else edited.delete(match[2] as string);
  }
  return edited;
}

export function factsFrom(reported: Set<string>, override: string | undefined): CpuFacts {
  const edited = override ? applyFeatureOverride(reported, override) : reported;
  const flags = RELEVANT_FLAGS.filter((flag) => edited.has(flag));
  const info = cpus();
  return {
    model: info[0]?.model.trim() || 'unknown',
    cores: info.length,
    arch: arch(),
    flags,
    int8DotProduct: flags.some((f) => f === 'avx512_vnni' || f === 'avx_vnni' || f === 'asimddp'),
    ...(override ? { featureOverride: override } : {}),
  };
}

let cached: CpuFacts | undefined;

export function cpuFacts(): CpuFacts {
  cached ??= factsFrom(reportedFlags(), CPU_FEATURES.read());
  return cached;
}

/**
 * How onnxruntime multiplies the converter's int8 weights (uint8 activations x int8 weights):
 * - `x86-vnni`: VNNI (vpdpbusd) adds four u8 x s8 products straight into 32 bits: exact, and
 *   ORT's fastest path.
 * - `x86-u8u8`: without VNNI, ORT's u8 x s8 kernels add pairs of products in saturating 16 bits
 *   (vpmaddubsw), which a MobileNet overflows. `session.x64quantprecision` makes ORT store every
 *   weight tensor with a value outside [-64, 64] as uint8 and run its u8 x u8 kernels, which
 *   widen to 16 bits before multiplying: exact. Weights within [-64, 64] keep the u8 x s8
 *   kernels, where a pair is at most 2 x 255 x 64 = 32640 and cannot saturate. ORT applies
 *   the option on every x86 CPU with AVX2, VNNI or not, so a VNNI CPU can run this path too:
 *   the very graph a CPU without VNNI runs.
 * - `native`: other architectures (arm64) have no saturating int8 kernel; no option is needed.
 */
export type Int8KernelPath = 'x86-vnni' | 'x86-u8u8' | 'native';

const X86 = new Set(['x64', 'ia32']);

/**
 * The int8 paths this CPU computes exactly, fastest first. Off Linux the flags are unknown and
 * an x86 CPU gets the path that is exact on all of them.
 */
export function exactInt8Paths(facts: CpuFacts = cpuFacts()): Int8KernelPath[] {
  if (!X86.has(facts.arch)) return ['native'];
  const vnni = facts.flags.includes('avx512_vnni') || facts.flags.includes('avx_vnni');
  return vnni ? ['x86-vnni', 'x86-u8u8'] : ['x86-u8u8'];
}

/** The onnxruntime session entries of a path. */
export function sessionEntriesFor(path: Int8KernelPath): Record<string, string> {
  return path === 'x86-u8u8' ? { x64quantprecision: '1' } : {};
}
