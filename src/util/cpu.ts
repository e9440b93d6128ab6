/**
 * What this CPU can do, as far as our engines care. Development and CI machines change from
 * run to run (Intel with VNNI, AMD with only AVX2), and onnxruntime picks different int8
 * kernels on each: every benchmark result records these facts, and the engine reads them
 * here rather than guessing.
 */
import { readFileSync } from 'node:fs';
import { arch, cpus } from 'node:os';

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
  /** The relevant flags this CPU reports, in a fixed order. */
  readonly flags: readonly string[];
  /** Whether the CPU has an int8 dot-product instruction (x86 VNNI, arm64 dotprod). */
  readonly int8DotProduct: boolean;
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
    return new Set(); // not Linux: no flags known, which only affects what is recorded
  }
}

let cached: CpuFacts | undefined;

export function cpuFacts(): CpuFacts {
  if (cached) return cached;
  const reported = reportedFlags();
  const flags = RELEVANT_FLAGS.filter((flag) => reported.has(flag));
  const info = cpus();
  cached = {
    model: info[0]?.model.trim() || 'unknown',
    cores: info.length,
    arch: arch(),
    flags,
    int8DotProduct: flags.some((f) => f === 'avx512_vnni' || f === 'avx_vnni' || f === 'asimddp'),
  };
  return cached;
}
