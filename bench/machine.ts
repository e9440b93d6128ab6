/**
 * The machine a figure was measured on, recorded with every result: CPU model, cores, the CPU
 * flags that change inference kernels, the onnxruntime int8 kernel paths they select, and
 * Node. Development and CI machines differ from run to run (Intel with VNNI, AMD with only
 * AVX2): a figure without its machine means little.
 */
import { cpuFacts, exactInt8Paths } from '../src/util/cpu.js';

export interface RecordedMachine {
  readonly cpu: string;
  readonly cores: number;
  readonly arch: string;
  readonly cpuFlags: readonly string[];
  readonly int8KernelPaths: readonly string[];
  /** TFLITE_FN_CPU_FEATURES when it edited the flags: recorded so no figure hides it. */
  readonly cpuFeatureOverride?: string;
  readonly node: string;
}

/** This machine, now. */
export function currentMachine(): RecordedMachine {
  const cpu = cpuFacts();
  return {
    cpu: cpu.model,
    cores: cpu.cores,
    arch: cpu.arch,
    cpuFlags: cpu.flags,
    int8KernelPaths: exactInt8Paths(cpu),
    ...(cpu.featureOverride ? { cpuFeatureOverride: cpu.featureOverride } : {}),
    node: process.version,
  };
}

/** One line naming a machine: CPU model, cores, the flags that change kernels, Node. */
export function recordedMachineLine(machine: RecordedMachine): string {
  const override = machine.cpuFeatureOverride
    ? ` (TFLITE_FN_CPU_FEATURES=${machine.cpuFeatureOverride})`
    : '';
  return `${machine.cpu}, ${machine.cores} cores, ${machine.arch}; CPU flags: ${machine.cpuFlags.join(' ') || 'none reported'}; onnxruntime int8 kernel paths: ${machine.int8KernelPaths.join(', ')}${override}; Node ${machine.node}`;
}

/** This machine in one line. */
export function machineLine(): string {
  return recordedMachineLine(currentMachine());
}
