/**
 * A throwaway copy of the project for the platform CLIs to build in. `vercel build`,
 * `netlify build` and `serverless package` write their output (.vercel, .netlify, .serverless)
 * into the folder they run in, `vercel build` even runs `npm install` there as Vercel does, and
 * the program tests put a .wasm under programs/: run in the clone itself, `npm test` would leave
 * files behind that a later `serverless package` ships. Tests write only to temporary folders,
 * so each test process builds in its own copy.
 *
 * A real copy, not hard links: npm rewrites files in node_modules in place, which through a
 * hard link would change the clone. Copying the ~0.5 GB takes a second or two.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../src/store/paths.js';

/** What set-up made beside the sources: the build, the installs and the fetched models. */
const MADE_BY_SETUP = ['dist', 'node_modules', '.cache'];

/** The sources: tracked files, and new ones git does not ignore (work not committed yet). */
function sourceFiles(root: string): string[] {
  return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file.length > 0 && existsSync(join(root, file)));
}

export function projectCopy(source: string = packageRoot()): string {
  const target = join(mkdtempSync(join(tmpdir(), 'tflite-fn-project-')), 'tflite-fn');
  mkdirSync(target);
  for (const file of sourceFiles(source)) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(source, file), join(target, file));
  }
  for (const folder of MADE_BY_SETUP) {
    // realpath: a worktree may link node_modules from elsewhere; the copy holds the files.
    if (existsSync(join(source, folder)))
      execFileSync('cp', ['-a', realpathSync(join(source, folder)), join(target, folder)]);
  }
  // The platform CLIs and serverless-offline, where .ci/run installed them: only run, never
  // written, so linked.
  const tools = join(source, 'platforms', 'node_modules');
  if (existsSync(tools)) symlinkSync(realpathSync(tools), join(target, 'platforms', 'node_modules'));
  return target;
}
