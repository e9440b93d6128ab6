/**
 * `--dir` grants on the owner's side: parsing WasmEdge's syntax, and checking each grant
 * before a run (the worker then opens them: wasi-files.ts).
 */
import { realpathSync, statSync } from 'node:fs';
import { BadRequestError } from '../errors.js';
import { canGrantDirectories, type DirectoryGrant } from './wasi-files.js';

const SYNTAX = '--dir takes GUEST:HOST, or one path for both, with :ro at the end for read-only';

/** Parses `--dir` values the way WasmEdge does: `GUEST:HOST`, or one path for both; `:ro` at the end for read-only. */
export function parseDirectoryGrant(value: string): DirectoryGrant {
  let spec = value;
  let readOnly = false;
  if (spec.endsWith(':ro')) {
    readOnly = true;
    spec = spec.slice(0, -3);
  }
  const at = spec.indexOf(':');
  const guest = at < 0 ? spec : spec.slice(0, at);
  const host = at < 0 ? spec : spec.slice(at + 1);
  // An empty host path would resolve to the working folder: never grant that by accident.
  if (guest === '' || host === '') throw new BadRequestError('bad_option', `${SYNTAX}; got '${value}'`);
  return { guest, host, readOnly };
}

/** Checks each grant names a directory, and pins it to its real path before the run. */
export function checkedGrants(dirs: readonly DirectoryGrant[]): DirectoryGrant[] {
  if (dirs.length > 0 && !canGrantDirectories())
    throw new BadRequestError('bad_option', '--dir needs /proc/self/fd (Linux) to open paths safely');
  return dirs.map((grant) => {
    // Library callers skip parseDirectoryGrant: the same refusals, here too.
    if (!grant.host || !grant.guest)
      throw new BadRequestError('bad_option', `${SYNTAX}; got '${grant.guest}:${grant.host}'`);
    let host: string;
    try {
      host = realpathSync(grant.host);
    } catch {
      throw new BadRequestError('bad_option', `--dir: ${grant.host} does not exist`);
    }
    if (!statSync(host).isDirectory())
      throw new BadRequestError('bad_option', `--dir: ${grant.host} is not a directory`);
    return { ...grant, host };
  });
}
