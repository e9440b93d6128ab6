/**
 * `tflite-fn detect [FILE] [--out boxed.jpg] [--json]`: the faces in a photo. Like WasmEdge's
 * MTCNN example, the default answer is the photo with the boxes drawn, on stdout
 * (`tflite-fn detect < in.jpg > boxed.jpg`); --json gives the boxes as data.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { annotate, DEFAULT_DETECT_MODEL, detect } from '../../src/detect.js';
import { ModelCatalog } from '../../src/model/catalog.js';
import type { Io } from './commands.js';
import { readImageArgument } from './read-input.js';

export interface DetectArgs {
  readonly file?: string | undefined;
  readonly model?: string | undefined;
  readonly out?: string | undefined;
  readonly json?: boolean | undefined;
  readonly tiling?: boolean | undefined;
}

export async function detectCommand(
  args: DetectArgs,
  io: Io & { stdoutIsTerminal: boolean },
): Promise<number> {
  const image = await readImageArgument(args.file ?? '-');
  const catalog = new ModelCatalog({ warmUp: false });
  const detections = await detect(image, {
    model: args.model ?? DEFAULT_DETECT_MODEL,
    tiling: args.tiling ?? true,
    catalog,
  });
  const count = `${detections.faces.length} ${detections.faces.length === 1 ? 'face' : 'faces'}`;
  if (args.json || (!args.out && io.stdoutIsTerminal)) {
    io.stdout.write(`${JSON.stringify(detections)}\n`);
    if (!args.json)
      io.stderr.write('tflite-fn: redirect stdout (> boxed.jpg) or use --out for the annotated photo\n');
    return 0;
  }
  if (args.out) {
    const format = extname(args.out).toLowerCase() === '.png' ? 'png' : 'jpeg';
    await writeFile(args.out, await annotate(image, detections, format));
    io.stderr.write(`${count} -> ${args.out}\n`);
    return 0;
  }
  io.stdout.write(await annotate(image, detections, 'jpeg'));
  return 0;
}
