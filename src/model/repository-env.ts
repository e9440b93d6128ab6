/**
 * The model repository a deployment names with TFLITE_FN_MODEL_REPOSITORY: one per process (a
 * warm function instance keeps it for its next invocations). A relative folder is looked up
 * from the working folder, then from the package's own folder, where Lambda, Vercel and
 * Netlify put the deployed files.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type Env, MODEL_REPOSITORY, REPOSITORY_POLL_MS } from '../config/index.js';
import { packageRoot } from '../store/paths.js';
import { type ModelRepository, type RepositoryOptions, repositorySource } from './repository.js';

let shared: { readonly dir: string; readonly repository: ModelRepository } | undefined;

function repositoryDir(configured: string): string {
  if (isAbsolute(configured)) return configured;
  const fromHere = resolve(configured);
  if (existsSync(fromHere)) return fromHere;
  try {
    return join(packageRoot(), configured);
  } catch {
    return fromHere; // refused by repositorySource with the path it was given
  }
}

/**
 * The repository TFLITE_FN_MODEL_REPOSITORY names, or undefined when it is not set. `options`
 * apply when it is first opened.
 */
export function repositoryFromEnv(
  env: Env = process.env,
  options: RepositoryOptions = {},
): ModelRepository | undefined {
  const configured = MODEL_REPOSITORY.read(env)?.trim();
  if (!configured) return undefined;
  const dir = repositoryDir(configured);
  if (shared?.dir !== dir) {
    shared?.repository.close();
    shared = { dir, repository: repositorySource(dir, options) };
  }
  return shared.repository;
}

/**
 * How often a serverless function polls its repository: never by default, as the folder ships
 * inside its read-only bundle and cannot change while an instance lives (a poll would only
 * spend each thawed instance's CPU on stats); TFLITE_FN_REPOSITORY_POLL_MS, when set, still
 * asks for polling (a mounted volume, such as EFS on Lambda, can change).
 */
export function serverlessPollMs(env: Env = process.env): number {
  return REPOSITORY_POLL_MS.read(env) ?? 0;
}

/**
 * What a function's platform should log (its stderr is the log): the warnings and errors, one
 * JSON line each, so a version that is not ready says why there, not only in answers.
 */
function logProblems(event: Record<string, unknown>): void {
  if (event.level === 'warn' || event.level === 'error') console.error(JSON.stringify(event));
}

/** The repository of a Lambda, Vercel or Netlify function (TFLITE_FN_MODEL_REPOSITORY), polled as serverlessPollMs says. */
export function serverlessRepositoryFromEnv(env: Env = process.env): ModelRepository | undefined {
  return repositoryFromEnv(env, { pollMs: serverlessPollMs(env), log: logProblems });
}
