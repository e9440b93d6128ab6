/**
 * `tflite-fn convert MODEL | FILE.tflite`: the converter by hand. A model id is converted and
 * verified into the cache (what set-up does for all); a bare .tflite file is converted only.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { convertTfliteToOnnx } from '../../src/convert/convert.js';
import { convertAndVerify } from '../../src/convert/prepare.js';
import { BadRequestError } from '../../src/errors.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import { modelFileLimit } from '../../src/model/model-file.js';
import { readFileCapped } from '../../src/util/read-capped.js';
import type { Io } from './commands.js';

export interface ConvertArgs {
  readonly target?: string | undefined;
  /** A model repository folder: every version in it converted and verified. */
  readonly repository?: string | undefined;
  readonly out?: string | undefined;
  readonly force: boolean;
  readonly json: boolean;
}

/** Every version of a model repository converted and verified; 1 when any was not converted. */
async function convertRepositoryCommand(dir: string, args: ConvertArgs, io: Io): Promise<number> {
  const { convertRepository } = await import('../../src/model/repository-convert.js');
  const results = await convertRepository(dir, { force: args.force }, (done) => {
    if (args.json) return;
    const what = done.report
      ? `${done.report.ok ? 'converted and verified' : 'stays on litert'}: ${done.report.message}`
      : `not converted: ${done.problem}`;
    io.stdout.write(`${done.name}/${done.version}: ${what}\n`);
  });
  if (args.json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return results.every((done) => done.report) ? 0 : 1;
}

export async function convertCommand(args: ConvertArgs, io: Io): Promise<number> {
  if (args.repository) return convertRepositoryCommand(args.repository, args, io);
  if (!args.target)
    throw new BadRequestError('bad_option', 'name a model id or a .tflite file: tflite-fn convert imagenet');
  if (args.target.endsWith('.tflite') || (existsSync(args.target) && !/^[\w-]+$/.test(args.target))) {
    if (!existsSync(args.target)) throw new BadRequestError('bad_option', `${args.target} does not exist`);
    const conversion = convertTfliteToOnnx(await readFileCapped(args.target, modelFileLimit()), args.target);
    const out = args.out ?? `${args.target.slice(0, -extname(args.target).length || undefined)}.onnx`;
    writeFileSync(out, conversion.onnx);
    const summary = {
      onnx: out,
      bytes: conversion.onnx.length,
      ops: conversion.ops,
      inputs: conversion.inputs,
      outputs: conversion.outputs,
      verified: false,
    };
    if (args.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else
      io.stdout.write(
        `${basename(args.target)} -> ${out} (${conversion.onnx.length} bytes)\n  ops: ${conversion.ops.join(', ')}\n  not verified: name a model id to verify against LiteRT on photos\n`,
      );
    return 0;
  }
  const catalog = new ModelCatalog({ warmUp: false });
  const entry = catalog.entry(args.target);
  const path = catalog.locate(entry, entry.descriptor.model).path;
  const report = await convertAndVerify(entry.descriptor, await readFileCapped(path, modelFileLimit()), {
    force: args.force,
  });
  if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const v = report.verification;
    io.stdout.write(
      `${entry.id}: ${report.ok ? 'converted and verified' : `stays on litert (${report.failedAt ?? 'verify'} failed)`}\n  ${report.message}\n` +
        (report.ops.length > 0 ? `  ops: ${report.ops.join(', ')}\n` : '') +
        (report.batch
          ? `  batching ${report.batch.ok ? 'verified' : 'off'}: ${report.batch.message}\n`
          : '') +
        (v ? `  per photo, one thread: litert ${v.litertMs} ms, ort ${v.ortMs} ms\n` : ''),
    );
  }
  return report.ok ? 0 : 1;
}
