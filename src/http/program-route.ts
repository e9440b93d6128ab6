/**
 * POST /classify answered by a WasmEdge-style program (.wasm) instead of the built-in
 * classifier, as WasmEdge's serverless templates do: the request body is its stdin, its stdout
 * the response (text/plain). Configured by TFLITE_FN_PROGRAM and TFLITE_FN_NN_PRELOAD.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { NN_PRELOAD, PROGRAM } from '../config/index.js';
import { BadRequestError, TfliteFnError } from '../errors.js';
import { modelFileLimit } from '../model/model-file.js';
import { packageRoot } from '../store/paths.js';
import { parsePreload } from '../wasm/builtin-preload.js';
import { type NnPreload, resolvePreloads } from '../wasm/nn-preload.js';
import type { RouteHandler } from './app.js';
import type { BodyLimit } from './limits.js';
import { readBodyCapped } from './read-request.js';
import { errorResponse } from './respond.js';

/**
 * The program's route when one is configured (the option, else TFLITE_FN_PROGRAM), its
 * preloads checked now; undefined when there is none.
 */
export function programRoute(
  options: { readonly program?: string | undefined; readonly nnPreload?: readonly string[] | undefined },
  bodyLimit: BodyLimit,
): RouteHandler | undefined {
  const program = programPath(options.program ?? PROGRAM.read());
  if (!program) return undefined;
  const specs = options.nnPreload ?? NN_PRELOAD.read() ?? [];
  return programHandler(program, bodyLimit, deploymentPreloads(specs, !options.nnPreload));
}

/**
 * A relative program path is looked up from the working folder, then from the package's own
 * folder: on Lambda, Vercel and Netlify the deployed files sit under the task root, which is
 * not always the working folder.
 */
function programPath(configured: string | undefined): string | undefined {
  if (!configured || isAbsolute(configured)) return configured || undefined;
  const fromHere = resolve(configured);
  if (existsSync(fromHere)) return fromHere;
  try {
    return join(packageRoot(), configured);
  } catch {
    return fromHere; // not inside the package: the read fails later with a clear message
  }
}

/**
 * The deployment's preloaded models, checked at start-up: a wrong entry, or a file that is
 * missing or too large, fails the deployment loudly instead of every request. The error is
 * the operator's, told as one line: its stack is trimmed to that line, since the platforms
 * (Lambda's init error, Vercel's and Netlify's function logs) print an error's stack, and
 * frames of our code would only bury which variable to fix.
 */
function deploymentPreloads(specs: readonly string[], fromEnv: boolean): NnPreload[] {
  try {
    const preloads = specs.map((spec) => parsePreload(spec, (file) => programPath(file) ?? file));
    resolvePreloads(preloads, modelFileLimit().maxBytes);
    return preloads;
  } catch (cause) {
    if (!(cause instanceof TfliteFnError)) throw cause;
    const source = fromEnv ? NN_PRELOAD.name : 'nnPreload';
    const error = new BadRequestError(cause.code, `${source}: ${cause.message}`, { cause });
    error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
}

/** A program (.wasm) that answers POST /classify: the body is its stdin, its stdout the answer. */
function programHandler(
  program: string,
  bodyLimit: BodyLimit,
  nnPreload: readonly NnPreload[],
): RouteHandler {
  let programBytes: Promise<Uint8Array> | undefined;
  return async (c) => {
    programBytes ??= readFile(program).catch((cause: unknown) => {
      programBytes = undefined;
      // The path stays in the cause, for the logs: a client is told what, not where.
      throw new TfliteFnError(
        500,
        'program_missing',
        'the configured program (TFLITE_FN_PROGRAM) cannot be read',
        {
          cause,
          expose: true,
        },
      );
    });
    const stdin = await readBodyCapped(c.req.raw, bodyLimit);
    // The program would only fail on nothing; say so as the client's mistake it is.
    if (stdin.length === 0) throw new BadRequestError('empty_image', 'no input was sent: the body is empty');
    const { runWasm } = await import('../wasm/sandbox.js');
    const result = await runWasm(await programBytes, { args: [basename(program)], stdin, nnPreload }).catch(
      (error: unknown) => {
        // The deployment's preloads, checked on each run: a file gone since start-up is the
        // deployment's fault, not the client's. Its path stays in the cause, for the logs.
        if (error instanceof BadRequestError && error.code === 'bad_option')
          throw new TfliteFnError(
            500,
            'program_missing',
            'a model the program loads by name (TFLITE_FN_NN_PRELOAD) cannot be read, or is over the size limit, since start-up',
            { cause: error, expose: true },
          );
        throw error;
      },
    );
    if (result.exitCode !== 0) {
      const detail = new TextDecoder().decode(result.stderr).trim().split('\n').slice(-3).join(' ');
      const code = result.timedOut ? 'program_timeout' : 'program_failed';
      return errorResponse(
        new TfliteFnError(
          result.timedOut ? 504 : 500,
          code,
          `the program exited with ${result.exitCode}: ${detail}`,
          { expose: true },
        ),
        () => undefined,
      );
    }
    return new Response(result.stdout as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  };
}
