/**
 * The npm package's size: what `npm pack` would put in the tarball (a dry run: nothing is
 * written), from the current build. `npm run bench:package` prints it and, unless --quick,
 * publishes docs/benchmarks/package.md; bench/run.ts records it with the other figures.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/store/paths.js';
import { below, type Figure, judged, reported } from './figures.js';
import { publish, publishing } from './publish.js';

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

/** kB (1024 bytes) to one decimal, as the figures show sizes. */
function kB(bytes: number): number {
  return Math.round((bytes / 1024) * 10) / 10;
}

/** The packed tarball against the limit: one figure, shared with bench/run.ts. */
export function tarballFigure(size: PackageSize): Figure {
  return judged('npm package tarball (.tgz)', kB(size.bytes), 'kB', below(kB(TARBALL_LIMIT_BYTES)));
}

/** The headline figures: the tarball against the limit, and what it unpacks to (for reference). */
export function packageFigures(size: PackageSize): Figure[] {
  return [
    tarballFigure(size),
    reported('unpacked', kB(size.unpackedBytes), 'kB'),
    reported('files', size.files, ''),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = packageSize();
  console.log(
    `npm package: ${size.bytes} bytes packed (${kB(size.bytes)} kB), ${size.unpackedBytes} unpacked, ${size.files} files (limit ${kB(TARBALL_LIMIT_BYTES)} kB packed)`,
  );
  if (publishing()) {
    const file = publish({
      name: 'package',
      title: 'The npm package',
      figures: packageFigures(size),
      sections: [
        {
          text: 'What `npm pack` puts in the tarball from this build (a dry run). Issue #15 asks for a minimal tarball with its size printed; the limit is the one test/package.test.ts holds.',
        },
      ],
    });
    console.log(`published ${file}`);
  }
}
