/**
 * The README's table of tasks, written from TASKS like the platform configs are written from
 * the route table: a task added to src/tasks/index.ts appears in the README at the next
 * `npm run routes:sync`, and test/routes.test.ts fails while the committed README differs.
 * Only the block between the markers is generated; the prose around it is hand-written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offersOf } from '../src/http/negotiate.js';
import { TASKS } from '../src/tasks/index.js';
import type { Task } from '../src/tasks/task.js';

const BEGIN = '<!-- tasks:sync (npm run routes:sync writes this table from src/tasks/index.ts) -->';
const END = '<!-- /tasks:sync -->';

function optionsOf(task: Pick<Task, 'cli'>): string {
  const flags = task.cli.flags.map((flag) => `\`${flag.option}\``);
  return flags.length > 0 ? flags.join(', ') : '—';
}

function row(task: Task): string {
  const forms = offersOf(task)
    .map((offer) => `\`${offer.format}\``)
    .join(', ');
  return `| \`${task.id}\` | ${task.summary} | \`tflite-fn ${task.id}\`, \`POST /${task.id}\` | \`${task.defaultModel}\` | ${forms} | ${optionsOf(task)} |`;
}

export function tasksTable(tasks: readonly Task[] = TASKS): string {
  return [
    BEGIN,
    '| task | answers | command, route | default model | forms (`--format`, `?format=`) | options |',
    '|---|---|---|---|---|---|',
    ...tasks.map(row),
    END,
  ].join('\n');
}

/** README.md with its tasks block rewritten, or an error when the markers are missing. */
export function readmeWithTasks(current: string, tasks: readonly Task[] = TASKS): string {
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${BEGIN} ... ${END} block`);
  return current.slice(0, begin) + tasksTable(tasks) + current.slice(end + END.length);
}

export function readmeFile(root: string): { path: string; text: string } {
  return { path: 'README.md', text: readmeWithTasks(readFileSync(join(root, 'README.md'), 'utf8')) };
}
