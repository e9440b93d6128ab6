/**
 * A file a model needs (the model, its labels): `{ file, sha256?, url? }` in a descriptor.
 * Apart from descriptor.ts so a task's descriptor section can use it without importing the
 * descriptor module (which imports every task).
 */
import { isAbsolute } from 'node:path';
import type * as Zod from 'zod';

const FILE_RULE =
  "must name a file inside the descriptor's folder (or the set-up cache): a relative path without '..', or npm:<package>/<path>";

/**
 * Whether a descriptor's `file:` stays inside the folder it is looked up in: a relative path
 * with no '..' segment (either separator, for Windows), after an optional `npm:` prefix.
 * A user's descriptor folder must not let a model id open /etc/passwd. Symbolic links that
 * point out are refused where the file is found (see ModelCatalog.locate).
 */
export function staysInItsFolder(file: string): boolean {
  const path = file.startsWith('npm:') ? file.slice('npm:'.length) : file;
  if (path === '' || isAbsolute(path) || /^[\\/]|^[a-zA-Z]:/.test(path) || path.includes('\0')) return false;
  return !path.split(/[\\/]/).some((segment) => segment === '..');
}

/** The schema of a file reference; `sha256` and `url` let set-up fetch and verify it. */
export function fileRefSchema(z: typeof Zod.z) {
  return z.strictObject({
    file: z.string().min(1).refine(staysInItsFolder, FILE_RULE),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
      .optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
  });
}

export type FileRef = Zod.output<ReturnType<typeof fileRefSchema>>;
