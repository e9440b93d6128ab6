/**
 * The npm package's size: what `npm pack` would put in the tarball (a dry run: nothing is
 * written), from the current build. `npm run bench:package` prints it and, unless --quick,
 * publishes docs/benchmarks/package.md; bench/run.ts records it with the other figures.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/store/paths.js';
import { publish } from './publish.js';

/**
 * The tarball's ceiling, held by test/package.test.ts: today's package is a few hundred kB, so
 * crossing 2 MB means something that should stay out (tests, sources, models) got in.
 */
export const TARBALL_LIMIT_BYTES = 2 * 1024 * 1024;

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

function kB(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} kB`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = packageSize();
  console.log(
    `npm package: ${size.bytes} bytes packed (${kB(size.bytes)}), ${size.unpackedBytes} unpacked, ${size.files} files (limit ${kB(TARBALL_LIMIT_BYTES)} packed)`,
  );
  if (!process.argv.includes('--quick')) {
    const file = publish({
      name: 'package',
      title: 'The npm package',
      command: 'npm run bench:package',
      sections: [
        {
          text: 'What `npm pack` puts in the tarball from this build (a dry run). Issue #15 asks for a minimal tarball with its size printed; the limit is the one test/package.test.ts holds.',
        },
        {
          rows: [
            {
              figure: 'tarball (.tgz)',
              measured: kB(size.bytes),
              target: `< ${kB(TARBALL_LIMIT_BYTES)}`,
              ok: size.bytes < TARBALL_LIMIT_BYTES ? 'yes' : 'MISSED',
            },
            { figure: 'unpacked', measured: kB(size.unpackedBytes), target: '', ok: '' },
            { figure: 'files', measured: size.files, target: '', ok: '' },
          ],
        },
      ],
    });
    console.log(`published ${file}`);
  }
}
