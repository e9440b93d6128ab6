/**
 * `tflite-fn convert --model-repository DIR`: set-up's conversion for a model repository. Every
 * version is checked as the repository checks it (repository-version.ts), then converted to
 * ONNX and verified against LiteRT on photos (src/convert/prepare.ts), and the verified model is
 * stored in the cache under its sha256, where the engine choice finds it. Serving never
 * converts (a conversion is seconds of CPU); a running server's repository notices the stored
 * conversion on a later poll and moves that version to onnxruntime (repository.ts).
 */
import type { ConversionReport } from '../convert/store.js';
import { toTfliteFnError } from '../errors.js';
import { readFileCapped } from '../util/read-capped.js';
import { modelFileLimit } from './model-file.js';
import { CONFIG_FILE, scanRepository } from './repository-layout.js';
import { prepareVersion } from './repository-version.js';

export interface VersionConversion {
  readonly name: string;
  readonly version: string;
  /** The converter's report, when the version's files passed the repository's checks. */
  readonly report?: ConversionReport;
  /** Why the version was not converted (its files did not pass). */
  readonly problem?: string;
}

/** Converts and verifies every version of every model in `dir`, one at a time, reporting each. */
export async function convertRepository(
  dir: string,
  options: { readonly force?: boolean } = {},
  onEach: (done: VersionConversion) => void = () => undefined,
): Promise<VersionConversion[]> {
  const { convertAndVerify } = await import('../convert/prepare.js');
  const scan = await scanRepository(dir);
  const results: VersionConversion[] = [];
  const add = (done: VersionConversion) => {
    results.push(done);
    onEach(done);
  };
  for (const model of scan.models) {
    for (const found of model.versions) {
      const at = { name: model.name, version: found.version };
      if ('problem' in found.model) {
        add({ ...at, problem: found.model.problem });
        continue;
      }
      try {
        const prepared = await prepareVersion({
          root: model.root,
          name: model.name,
          version: found.version,
          folder: model.folder,
          model: found.model.ok,
          config: model.files.get(CONFIG_FILE),
        });
        const tflite = await readFileCapped(prepared.files.model, modelFileLimit());
        add({ ...at, report: await convertAndVerify(prepared.descriptor, tflite, options) });
      } catch (error) {
        add({ ...at, problem: toTfliteFnError(error).message });
      }
    }
  }
  return results;
}
