/** Reads a whole image from a file or stdin, the way a program reads its input. */
import { readFile } from 'node:fs/promises';
import { BadRequestError } from '../../src/errors.js';

export async function readStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** `-` means stdin, as in most Unix tools. */
export async function readImageArgument(path: string): Promise<Uint8Array> {
  if (path === '-') return readStdin();
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (cause as Error).message;
    throw new BadRequestError('unreadable_file', `cannot read ${path}: ${reason}`, { cause });
  }
}
