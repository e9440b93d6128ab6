/**
 * The docs name nothing that is not there: every relative link (and its #anchor) and every
 * repository path of every markdown file resolves, and every `tflite-fn` command of the
 * README's first screen is one the CLI accepts. Each failure lists every broken reference.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/store/paths.js';
import {
  anchorsOf,
  brokenReferences,
  builtFromSource,
  type CliCommand,
  cliCommands,
  firstScreen,
  helpLists,
  optionsUsed,
  type RepoView,
} from './docs-check.js';
import { CLI } from './helpers.js';

const ROOT = packageRoot();

/**
 * Git-ignored locations the docs may name, each written by a documented step: a path below one
 * passes although no clone has it.
 */
const GENERATED: readonly {
  prefix: string;
  why: string;
  passes?: (path: string, files: Set<string>) => boolean;
}[] = [
  {
    prefix: 'dist/',
    why: 'npm run build (tsc): passes when its TypeScript source exists',
    passes: builtFromSource,
  },
  {
    prefix: 'dist/src/model/builtin-descriptors.json',
    why: 'npm run build (scripts/snapshot-descriptors.ts)',
  },
  { prefix: '.cache/', why: 'the bundled model cache: tflite-fn setup --bundle (npm prepare)' },
  { prefix: 'bench/results/', why: 'written by the npm run bench* scripts' },
];

function repository(): RepoView {
  const listing = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = new Set(listing.split('\0').filter((file) => file !== ''));
  return {
    files,
    generatedFolders: GENERATED.map((place) => place.prefix.split('/')[0] as string),
    generated: (path) =>
      GENERATED.some(
        (place) =>
          (path === place.prefix.slice(0, -1) || path.startsWith(place.prefix)) &&
          (place.passes?.(path, files) ?? true),
      ),
    read: (path) =>
      path.endsWith('.md') && files.has(path) ? readFileSync(join(ROOT, path), 'utf8') : undefined,
  };
}

/** A repository held in memory, for the cases that prove the checker can fail. */
function memoryRepo(texts: Record<string, string>): RepoView {
  const files = new Set(Object.keys(texts));
  return {
    files,
    generatedFolders: ['dist'],
    generated: (path) => builtFromSource(path, files),
    read: (path) => texts[path],
  };
}

describe('documentation references', () => {
  it('every relative link, anchor and repository path in every markdown file exists', () => {
    const repo = repository();
    const markdown = [...repo.files].filter(
      (file) => file.endsWith('.md') && !file.split('/').includes('node_modules'),
    );
    assert.ok(markdown.includes('README.md'), 'README.md is among the files checked');
    const broken = brokenReferences(markdown, repo);
    assert.deepEqual(broken, [], `broken references:\n${broken.join('\n')}`);
  });

  it('catches a missing file, a missing heading and a missing path (the checker can fail)', () => {
    const repo = memoryRepo({
      'README.md': [
        '# Title',
        'See [the guide](docs/guide.md#set-up), [gone](docs/gone.md) and [here](#title).',
        'The code is in `src/core.ts` and `src/missing.ts`; run `npm test` (not a path).',
        '```sh',
        'cat `src/in-a-fence.ts`  # code blocks are not prose',
        '```',
        '[ref]: docs/guide.md#no-such-heading',
        'Run `node dist/src/core.js` or `node dist/src/gone.js --quick`.',
      ].join('\n'),
      'docs/guide.md': '## Set up\n\nBack to [the README](../README.md#title).',
      'src/core.ts': '',
    });
    assert.deepEqual(brokenReferences(['README.md', 'docs/guide.md'], repo), [
      'README.md:2 → docs/gone.md (no such file)',
      'README.md:3 → src/missing.ts (no such path)',
      'README.md:7 → docs/guide.md#no-such-heading (no heading #no-such-heading)',
      'README.md:8 → dist/src/gone.js (no such path)',
    ]);
  });

  it('accepts a built path under dist/ when its TypeScript source is in the repository, and only then', () => {
    const repo = memoryRepo({
      'README.md': [
        'Run `node dist/handlers/cli/main.js`; types in `dist/src/index.d.ts`; all of `dist/src/` and `dist/handlers`.',
        'Not built from anything: `dist/handlers/cli/gone.js`, `dist/nowhere/`, `dist/src/index.json`, `dist/README.md`.',
      ].join('\n'),
      'handlers/cli/main.ts': '',
      'src/index.ts': '',
    });
    assert.deepEqual(brokenReferences(['README.md'], repo), [
      'README.md:2 → dist/handlers/cli/gone.js (no such path)',
      'README.md:2 → dist/nowhere/ (no such path)',
      'README.md:2 → dist/src/index.json (no such path)',
      'README.md:2 → dist/README.md (no such path)',
    ]);
  });

  it("makes GitHub's heading anchors", () => {
    const anchors = anchorsOf(
      [
        '## Self-hosted server (`tflite-fn serve`)',
        '## Engines: LiteRT and native onnxruntime',
        '## Limits',
        '### Limits',
        '```',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    assert.deepEqual(
      [...anchors],
      ['self-hosted-server-tflite-fn-serve', 'engines-litert-and-native-onnxruntime', 'limits', 'limits-1'],
    );
  });
});

describe("the README's first screen", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const commands = cliCommands(firstScreen(readme));

  const helps = new Map<string, { status: number | null; text: string }>();
  /** A command's --help (asked once per command: the guides name the same few many times). */
  function help(args: string[]): { status: number | null; text: string } {
    const key = args.join(' ');
    let answer = helps.get(key);
    if (answer === undefined) {
      const run = spawnSync(process.execPath, [CLI, ...args, '--help'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      answer = { status: run.status, text: `${run.stdout}${run.stderr}` };
      helps.set(key, answer);
    }
    return answer;
  }

  /** Options every command takes, as `tflite-fn --help` says ("Every command takes --engine …"). */
  function globalOptions(mainHelp: string): string[] {
    const sentence = /Every command takes ((?:--[\w-]+[\s|a-z,]*)+)/.exec(mainHelp)?.[1] ?? '';
    return [...sentence.matchAll(/--[\w-]+/g)].map((match) => match[0]);
  }

  /** What is wrong with one command: an unknown command, or options its help does not list. */
  function problems(command: CliCommand, mainHelp: string, file = 'README.md'): string[] {
    const { name, options } = optionsUsed(command);
    const answer = help(name === undefined ? [] : [name]);
    if (answer.status !== 0) return [`${file}:${command.line} → ${command.text} (exit ${answer.status})`];
    const global = globalOptions(mainHelp);
    return options
      .filter((option) => !global.includes(option) && !helpLists(answer.text, option))
      .map((option) => `${file}:${command.line} → ${command.text} (${option} is not in its --help)`);
  }

  it('stays a front page: at most 12 KB, the rest lives in docs/', () => {
    const bytes = Buffer.byteLength(readme);
    assert.ok(bytes <= 12 * 1024, `README.md is ${bytes} bytes: move detail into a guide under docs/`);
  });

  it('names tflite-fn commands at all (the check is not vacuous)', () => {
    assert.ok(commands.length >= 5, `found ${commands.length} commands`);
  });

  it('every tflite-fn command in its code blocks is one the CLI accepts, with options its --help lists', () => {
    const mainHelp = help([]).text;
    assert.ok(
      globalOptions(mainHelp).includes('--engine'),
      'tflite-fn --help names the options every command takes',
    );
    const broken = commands.flatMap((command) => problems(command, mainHelp));
    assert.deepEqual(broken, [], `commands the CLI refuses:\n${broken.join('\n')}`);
  });

  it('every tflite-fn command in the code blocks of every guide is one the CLI accepts too', () => {
    const mainHelp = help([]).text;
    const guides = execFileSync('git', ['ls-files', '-z', '*.md'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((file) => file !== '' && !file.startsWith('docs/benchmarks'));
    const found = guides.flatMap((file) =>
      cliCommands(readFileSync(join(ROOT, file), 'utf8')).map((command) => ({ file, command })),
    );
    assert.ok(found.length >= 30, `found ${found.length} commands in ${guides.length} guides`);
    const broken = found.flatMap(({ file, command }) => problems(command, mainHelp, file));
    assert.deepEqual(broken, [], `commands the CLI refuses:\n${broken.join('\n')}`);
  });

  it('catches an unknown command and an option the command lacks (the check can fail)', () => {
    const sample = [
      '# x',
      '```sh',
      'npx tflite-fn classify a.jpg --no-such-flag   # comment',
      'tflite-fn photo.jpg > out.txt',
      'echo tflite-fn  # not a command of ours',
      '```',
    ].join('\n');
    const mainHelp = help([]).text;
    const found = cliCommands(sample);
    assert.deepEqual(
      found.map((command) => command.args),
      [['classify', 'a.jpg', '--no-such-flag'], ['photo.jpg']],
    );
    assert.deepEqual(
      found.flatMap((command) => problems(command, mainHelp)),
      [
        'README.md:3 → npx tflite-fn classify a.jpg --no-such-flag (--no-such-flag is not in its --help)',
        'README.md:4 → tflite-fn photo.jpg > out.txt (exit 2)',
      ],
    );
  });
});

describe('the installed package', () => {
  /** The files `npm pack` would put in the tarball (package-relative), from its dry run. */
  function packedFiles(): Set<string> {
    const report = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_update_notifier: 'false' },
      }),
    ) as { files: { path: string }[] }[];
    return new Set((report[0]?.files ?? []).map((file) => file.path));
  }

  it('every relative link of the packed markdown (README first) resolves inside the tarball', () => {
    const files = packedFiles();
    assert.ok(files.has('README.md') && files.has('package.json'), 'the dry run lists the package');
    const packed: RepoView = {
      files,
      generatedFolders: [],
      generated: () => false,
      read: (path) =>
        path.endsWith('.md') && files.has(path) ? readFileSync(join(ROOT, path), 'utf8') : undefined,
    };
    const markdown = [...files].filter((file) => file.endsWith('.md'));
    const broken = brokenReferences(markdown, packed, ['link']);
    assert.deepEqual(
      broken,
      [],
      `links that break in the installed package (add the target to "files"):\n${broken.join('\n')}`,
    );
  });
});
