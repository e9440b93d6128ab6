// Netlify runs this after bundling the function (onPostBuild): the function's zip against the
// limit, in one line (scripts/function-size.ts, compiled by the build command into dist/).
import { statSync } from 'node:fs';
import { join } from 'node:path';

export const onPostBuild = async ({ constants, utils }) => {
  const { folderBytes, functionSizeProblem, NETLIFY_FUNCTION_LIMIT_BYTES } = await import(
    '../../../dist/scripts/function-size.js'
  );
  const zip = join(constants.FUNCTIONS_DIST, 'classify.zip');
  const problem = functionSizeProblem({
    platform: 'Netlify',
    what: 'function classify (zipped)',
    bytes: statSync(zip).size,
    limitBytes: NETLIFY_FUNCTION_LIMIT_BYTES,
    repository: { folder: 'model-repository', bytes: folderBytes('model-repository') },
  });
  if (problem) utils.build.failBuild(problem);
};
