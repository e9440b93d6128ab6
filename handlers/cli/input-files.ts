/**
 * The files `tflite-fn classify` works through, from its arguments: a file as given, `-` for
 * stdin, a folder as every image file directly inside it (sorted by name, not recursive), and
 * `--files-from LIST` (`-` for stdin) as one path per line. A list in a file, or a folder,
 * keeps the command line short however many photos there are.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestError } from '../../src/errors.js';
import { readImageArgument } from './read-input.js';

/** File names a folder contributes: the formats the decoder reads (see src/image/decode.ts). */
const IMAGE_NAME = /\.(jpe?g|png|webp|gif|tiff?|avif|bmp)$/i;

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a missing file: reported when it is read, in its turn
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The image files directly inside `folder`, sorted by name (code-point order, like `LC_ALL=C ls`). */
export function imagesInFolder(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => IMAGE_NAME.test(name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => join(folder, name))
    .filter(isFile);
}

/** One path per line; blank lines are skipped, a trailing '\r' (a Windows-made list) dropped. */
export function parseFileList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

export interface InputFiles {
  /** In order: arguments first, then the list's lines; folders replaced by their images. */
  readonly files: string[];
  /** Folders named that hold no image file: reported, as a file that cannot be read is. */
  readonly emptyFolders: string[];
  /** Whether a folder or a list gave files: then every result names its file, even a single one. */
  readonly expanded: boolean;
}

export async function inputFiles(
  args: readonly string[],
  filesFrom: string | undefined,
): Promise<InputFiles> {
  const listed =
    filesFrom === undefined
      ? []
      : parseFileList(new TextDecoder().decode(await readImageArgument(filesFrom)));
  const named = [...args, ...listed];
  if (filesFrom === '-' && named.includes('-')) {
    throw new BadRequestError(
      'bad_option',
      'stdin cannot be both the file list (--files-from -) and an image (-)',
    );
  }
  const files: string[] = [];
  const emptyFolders: string[] = [];
  let expanded = filesFrom !== undefined;
  for (const path of named) {
    if (path === '-' || !isFolder(path)) files.push(path);
    else {
      expanded = true;
      const images = imagesInFolder(path);
      if (images.length === 0) emptyFolders.push(path);
      files.push(...images);
    }
  }
  return { files, emptyFolders, expanded };
}
