/**
 * The npm package's size: what `npm pack` would put in the tarball (a dry run: nothing is
 * written), from the current build. `npm run bench:package` prints it alone; bench/run.ts
 * records it with the other figures.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/store/paths.js';

export interface PackageSize {
  /** The .tgz, as the registry stores it and `npm install` downloads it. */
  readonly bytes: number;
  readonly unpackedBytes: number;
  readonly files: number;
}

export function packageSize(): PackageSize {
  // --ignore-scripts: `prepare` would build and set up again; the build is already there.
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: packageRoot(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const [packed] = JSON.parse(output) as { size: number; unpackedSize: number; entryCount: number }[];
  if (!packed) throw new Error('npm pack --dry-run reported no package');
  return { bytes: packed.size, unpackedBytes: packed.unpackedSize, files: packed.entryCount };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = packageSize();
  console.log(
    `npm package: ${size.bytes} bytes packed (${(size.bytes / 1024).toFixed(0)} kB), ${size.unpackedBytes} unpacked, ${size.files} files`,
  );
}
