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
    passes: (path, files) => {
      const source = path.slice('dist/'.length).replace(/(?:\.d)?\.js$/, '.ts');
      return files.has(source) || [...files].some((file) => file.startsWith(`${source.replace(/\/$/, '')}/`));
    },
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
function memoryRepo(texts: Record<string, string>, built: readonly string[] = []): RepoView {
  return {
    files: new Set(Object.keys(texts)),
    generatedFolders: ['dist'],
    generated: (path) => built.includes(path),
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
    const repo = memoryRepo(
      {
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
      },
      ['dist/src/core.js'],
    );
    assert.deepEqual(brokenReferences(['README.md', 'docs/guide.md'], repo), [
      'README.md:2 → docs/gone.md (no such file)',
      'README.md:3 → src/missing.ts (no such path)',
      'README.md:7 → docs/guide.md#no-such-heading (no heading #no-such-heading)',
      'README.md:8 → dist/src/gone.js (no such path)',
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

  function help(args: string[]): { status: number | null; text: string } {
    const run = spawnSync(process.execPath, [CLI, ...args, '--help'], { encoding: 'utf8', timeout: 60_000 });
    return { status: run.status, text: `${run.stdout}${run.stderr}` };
  }

  /** Options every command takes, as `tflite-fn --help` says ("Every command takes --engine …"). */
  function globalOptions(mainHelp: string): string[] {
    const sentence = /Every command takes ((?:--[\w-]+[\s|a-z,]*)+)/.exec(mainHelp)?.[1] ?? '';
    return [...sentence.matchAll(/--[\w-]+/g)].map((match) => match[0]);
  }

  /** What is wrong with one command: an unknown command, or options its help does not list. */
  function problems(command: CliCommand, mainHelp: string): string[] {
    const { name, options } = optionsUsed(command);
    const answer = help(name === undefined ? [] : [name]);
    if (answer.status !== 0) return [`README.md:${command.line} → ${command.text} (exit ${answer.status})`];
    const global = globalOptions(mainHelp);
    return options
      .filter((option) => !global.includes(option) && !helpLists(answer.text, option))
      .map((option) => `README.md:${command.line} → ${command.text} (${option} is not in its --help)`);
  }

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
