/**
 * The configuration module (src/config/): every TFLITE_FN_* variable is declared once, read
 * through its declaration (a bad value is one error naming the variable and what it accepts),
 * and docs/reference.md's table is what the declarations write.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mainHelp } from '../handlers/cli/help.js';
import { serverConfig } from '../handlers/server/config.js';
import {
  BATCH_MAX,
  CORS_ORIGINS,
  DEBUG,
  ENGINE,
  MAX_BYTES,
  MAX_PIXELS,
  NN_PRELOAD,
  PORT,
  PRELOAD,
  REPOSITORY_POLL_MS,
  THREADS,
  VARIABLES,
  WORKERS,
} from '../src/config/index.js';
import { configTable, TABLE_BEGIN, TABLE_END, withConfigTable } from '../src/config/table.js';
import { TfliteFnError } from '../src/errors.js';
import { createApp } from '../src/http/app.js';
import { ModelCatalog } from '../src/model/catalog.js';
import { packageRoot } from '../src/store/paths.js';
import { TASKS } from '../src/tasks/index.js';
import { envReadsIn } from './env-reads.js';
import { CLI, IMAGES } from './helpers.js';

const REFERENCE = join(packageRoot(), 'docs', 'reference.md');

/** A 400 bad_option whose message names `name` and says what it accepts. */
function badSetting(name: string, accepted: RegExp) {
  return (error: unknown) =>
    error instanceof TfliteFnError &&
    error.status === 400 &&
    error.code === 'bad_option' &&
    error.message.includes(name) &&
    accepted.test(error.message);
}

describe('configuration: the declarations', () => {
  it('name each variable once, each with a summary, a type, a default, what it accepts and where it applies', () => {
    const names = VARIABLES.map((setting) => setting.name);
    assert.deepEqual(
      names.filter((name, index) => names.indexOf(name) !== index),
      [],
    );
    for (const setting of VARIABLES) {
      assert.match(setting.name, /^TFLITE_FN_[A-Z0-9_]+$/);
      assert.ok(setting.summary.length > 0, setting.name);
      assert.ok(setting.parser.type.length > 0, setting.name);
      assert.ok(setting.scope.length > 0, setting.name);
    }
  });
});

describe('configuration: reading a variable', () => {
  it('unset or blank is the default; a set value is parsed', () => {
    assert.equal(MAX_BYTES.value({}), 32 * 1024 * 1024);
    assert.equal(MAX_BYTES.value({ TFLITE_FN_MAX_BYTES: '  ' }), 32 * 1024 * 1024);
    assert.equal(MAX_BYTES.value({ TFLITE_FN_MAX_BYTES: '1000' }), 1000);
    assert.equal(THREADS.read({}), undefined);
    assert.equal(THREADS.read({ TFLITE_FN_THREADS: '2' }), 2);
    assert.equal(ENGINE.value({ TFLITE_FN_ENGINE: 'ort' }), 'ort');
    assert.equal(DEBUG.value({ TFLITE_FN_DEBUG: 'TRUE' }), true);
    assert.deepEqual(
      CORS_ORIGINS.value({ TFLITE_FN_CORS_ORIGINS: ' https://a.example , https://b.example,' }),
      ['https://a.example', 'https://b.example'],
    );
    assert.equal(CORS_ORIGINS.value({ TFLITE_FN_CORS_ORIGINS: '*' }), '*');
    assert.deepEqual(NN_PRELOAD.read({ TFLITE_FN_NN_PRELOAD: 'a:onnx:CPU:/x  b:onnx:CPU:/y' }), [
      'a:onnx:CPU:/x',
      'b:onnx:CPU:/y',
    ]);
  });

  it("a blank value is a value only where the declaration says so (TFLITE_FN_PRELOAD='' preloads nothing)", () => {
    assert.equal(PRELOAD.read({ TFLITE_FN_PRELOAD: '' }), '');
    assert.equal(PRELOAD.read({}), undefined);
  });

  it('a bad value is one 400 bad_option naming the variable and what it accepts, not the default', () => {
    for (const bad of ['0', '-5', '1.5', '12abc', '0x10', '1e3', 'lots']) {
      assert.throws(
        () => MAX_BYTES.value({ TFLITE_FN_MAX_BYTES: bad }),
        badSetting(MAX_BYTES.name, /a whole number >= 1 \(bytes\), got '/),
        bad,
      );
    }
    assert.throws(
      () => ENGINE.value({ TFLITE_FN_ENGINE: 'gpu' }),
      badSetting(ENGINE.name, /one of auto, litert, ort/),
    );
    assert.throws(
      () => DEBUG.value({ TFLITE_FN_DEBUG: 'yes please' }),
      badSetting(DEBUG.name, /true or false/),
    );
    assert.throws(
      () => BATCH_MAX.read({ TFLITE_FN_BATCH_MAX: '65' }),
      badSetting(BATCH_MAX.name, /a whole number from 1 to 64/),
    );
    assert.throws(
      () => REPOSITORY_POLL_MS.value({ TFLITE_FN_REPOSITORY_POLL_MS: '-1' }),
      badSetting(REPOSITORY_POLL_MS.name, />= 0 \(ms\)/),
    );
  });

  it('a value given by a flag is parsed by the same rules, and the error names the flag', () => {
    assert.equal(BATCH_MAX.parse('8', '--batch-max'), 8);
    assert.throws(() => BATCH_MAX.parse('0', '--batch-max'), badSetting('--batch-max', /from 1 to 64/));
  });

  it('a variable read after another (PORT after TFLITE_FN_PORT) is named in its own error', () => {
    assert.equal(PORT.value({}), 8080);
    assert.equal(PORT.value({ PORT: '9000' }), 9000);
    assert.equal(PORT.value({ PORT: '9000', TFLITE_FN_PORT: '9001' }), 9001);
    assert.throws(() => PORT.value({ PORT: 'http' }), badSetting('PORT', /from 0 to 65535, got 'http'/));
  });

  it('withValue sets a variable for the work and puts back what was there, also when the work fails', async () => {
    const before = THREADS.text();
    assert.equal(await THREADS.withValue('3', async () => THREADS.read()), 3);
    assert.equal(THREADS.text(), before);
    await assert.rejects(
      THREADS.withValue('2', async () => {
        throw new Error('work failed');
      }),
      /work failed/,
    );
    assert.equal(THREADS.text(), before);
  });

  it('assign sets a variable in the record given; with ifUnset only when it is unset', () => {
    const env: NodeJS.ProcessEnv = { TFLITE_FN_THREADS: '4' };
    THREADS.assign('1', { env, ifUnset: true });
    assert.equal(THREADS.text(env), '4');
    ENGINE.assign('ort', { env });
    THREADS.assign('1', { env: {}, ifUnset: true });
    assert.deepEqual(env, { TFLITE_FN_THREADS: '4', TFLITE_FN_ENGINE: 'ort' });
  });

  it('quotes only the start of a long bad value', () => {
    assert.throws(
      () => MAX_BYTES.value({ TFLITE_FN_MAX_BYTES: 'x'.repeat(10_000) }),
      (error: Error) => error.message.length < 200,
    );
  });
});

describe('configuration: where it is read', () => {
  it('the CLI refuses a bad value as it starts: exit 2, one line naming the variable and what it accepts', () => {
    for (const [name, value, accepted] of [
      [MAX_BYTES.name, 'abc', 'a whole number >= 1 (bytes)'],
      [THREADS.name, '0', 'a whole number >= 1'],
      [DEBUG.name, 'maybe', 'true or false (1 or 0)'],
    ] as const) {
      const run = spawnSync(process.execPath, [CLI, 'classify', join(IMAGES, 'grace_hopper.jpg')], {
        env: { ...process.env, [name]: value },
        encoding: 'utf8',
      });
      assert.equal(run.status, 2, `${name}=${value}: ${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr, `tflite-fn: ${name} must be ${accepted}, got '${value}'\n`);
    }
  });

  it('the HTTP app refuses to start with a bad value (an init error, not a 400 to each client)', () => {
    const restore = MAX_PIXELS.override('many');
    try {
      assert.throws(
        () => createApp({ catalog: new ModelCatalog({ warmUp: false }) }),
        badSetting(MAX_PIXELS.name, />= 1/),
      );
    } finally {
      restore();
    }
    assert.ok(createApp({ catalog: new ModelCatalog({ warmUp: false }) }));
  });

  it('tflite-fn --help lists every variable that applies everywhere, from the declarations', () => {
    const help = mainHelp(TASKS);
    for (const setting of VARIABLES) {
      assert.equal(help.includes(setting.name), setting.scope.includes('all'), setting.name);
    }
  });

  it("the server's flags win over the variables; each error names what was given", () => {
    const config = serverConfig(
      { port: '9001' },
      { TFLITE_FN_PORT: '9002', TFLITE_FN_QUEUE: '7', TFLITE_FN_CORS_ORIGINS: '*' },
    );
    assert.deepEqual([config.port, config.queueSize, config.corsOrigins], [9001, 7, '*']);
    assert.equal(serverConfig({}, { PORT: '9003' }).port, 9003);
    assert.throws(() => serverConfig({}, { TFLITE_FN_WORKERS: '0' }), badSetting(WORKERS.name, />= 1/));
    assert.throws(() => serverConfig({ workers: '0' }, {}), badSetting('--workers', />= 1/));
    assert.equal(serverConfig({}, { TFLITE_FN_PRELOAD: '' }).preload, '', "'' preloads nothing");
    assert.equal(serverConfig({}, { TFLITE_FN_DEFAULT_MODEL: 'birds' }).preload, 'birds');
  });
});

describe('configuration: the table in docs/reference.md', () => {
  it('is the one the declarations write (npm run docs:config)', () => {
    const current = readFileSync(REFERENCE, 'utf8');
    assert.equal(
      withConfigTable(current),
      current,
      'docs/reference.md differs from src/config/variables.ts: run npm run docs:config',
    );
  });

  it('lists every declared variable, and the check sees a changed declaration', () => {
    const table = configTable();
    for (const setting of VARIABLES) assert.ok(table.includes(`| \`${setting.name}\` |`), setting.name);
    const changed = VARIABLES.map((setting, index) =>
      index === 0 ? { ...setting, summary: 'changed' } : setting,
    );
    const current = readFileSync(REFERENCE, 'utf8');
    assert.notEqual(withConfigTable(current, changed), current);
  });

  it('refuses a file without the markers', () => {
    assert.throws(() => withConfigTable('# no table here\n'), /GENERATED/);
    assert.ok(configTable().startsWith(TABLE_BEGIN) && configTable().endsWith(TABLE_END));
  });
});

describe('configuration: only src/config reads TFLITE_FN_* variables', () => {
  const fixtures = join(packageRoot(), 'test', 'fixtures', 'env-reads');
  const samples = (name: string) =>
    readFileSync(join(fixtures, name), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');

  it('the check catches every way of reading one it knows (test/fixtures/env-reads/caught.txt)', () => {
    const missed = samples('caught.txt').filter((line) => envReadsIn('sample.ts', line).length === 0);
    assert.deepEqual(missed, []);
  });

  it('and lets setting one for this process or a child, comments and messages pass (allowed.txt)', () => {
    const flagged = samples('allowed.txt').filter((line) => envReadsIn('sample.ts', line).length > 0);
    assert.deepEqual(flagged, []);
  });

  it('no tracked source file outside src/config reads one', () => {
    const listing = execFileSync(
      'git',
      [
        'ls-files',
        '--cached',
        '--others',
        '--exclude-standard',
        '-z',
        '--',
        '*.ts',
        '*.mts',
        '*.cts',
        '*.js',
        '*.mjs',
        '*.cjs',
      ],
      { cwd: packageRoot(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const files = listing.split('\0').filter((file) => file !== '' && !file.startsWith('src/config/'));
    assert.ok(files.length > 100, `only ${files.length} source files listed`);
    const reads = files.flatMap((file) => envReadsIn(file, readFileSync(join(packageRoot(), file), 'utf8')));
    assert.deepEqual(
      reads.map((read) => `${read.file}:${read.line}: ${read.why}: ${read.text}`),
      [],
      'read it through its declaration in src/config/variables.ts (its .read(), .value() or .text())',
    );
  });
});
