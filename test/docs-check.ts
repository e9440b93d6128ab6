/**
 * The documentation checker behind test/docs.test.ts: finds every relative link and every
 * repository path a markdown file names, and the `tflite-fn` commands of the README's first
 * screen. Pure functions over text, so the test can also run them on a broken sample.
 */
import { posix } from 'node:path';

/** A reference the docs make: `file:line → target` when it is broken. */
export interface Reference {
  file: string;
  line: number;
  target: string;
  kind: 'link' | 'path';
}

/** What the checker knows of the repository: its files (repository-relative, '/'-separated). */
export interface RepoView {
  /** Every file of the repository: tracked, or new and not git-ignored. */
  files: ReadonlySet<string>;
  /** Top-level folders no clone has until a documented step writes them (dist/, .cache/…). */
  generatedFolders: readonly string[];
  /** Whether a path not in `files` is a documented generated location (dist/, the cache…). */
  generated(path: string): boolean;
  /** A markdown file's text, for its headings (undefined when it is not in the repository). */
  read(path: string): string | undefined;
}

/**
 * A line of the file with its code blocks blanked: a fenced block's lines become empty (so
 * line numbers stay right) and their text is not prose.
 */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const opener = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (fence !== undefined) {
      if (opener?.startsWith(fence)) fence = undefined;
      return '';
    }
    if (opener) {
      fence = opener;
      return '';
    }
    return line;
  });
}

/** The inline code spans of a prose line, and the line with them blanked. */
function splitCode(line: string): { spans: string[]; text: string } {
  const spans: string[] = [];
  const text = line.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_match, _ticks, body: string) => {
    spans.push(body.trim());
    return ' ';
  });
  return { spans, text };
}

/**
 * GitHub's heading anchors: the heading's text (markup removed) in lower case, every character
 * but letters, digits, spaces, '-' and '_' dropped, spaces as '-'; a repeated slug gets -1, -2….
 * Explicit `<a id>`/`<a name>` anchors count too.
 */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    for (const match of line.matchAll(/<a\s+(?:id|name)=["']([^"']+)["']/g)) anchors.add(match[1] as string);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/`/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Link targets that leave the repository (or are not files): not checked here. */
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * A word of a backticked span counts as a repository path when its first segment is a top-level
 * folder of the repository (or a generated one) and it has a '/' after it: `src/wasm/wasi-nn.ts`,
 * `test/guests/`, `docs/*.md`, the script of `node dist/bench/serverless.js`. Words with
 * placeholders (<id>, {a,b}, …), quotes or '=' are not paths.
 */
export function repositoryPath(token: string, topFolders: ReadonlySet<string>): string | undefined {
  const path = token.replace(/:\d+(?:-\d+)?$/, ''); // `file.ts:42` names a line of file.ts
  if (!/^[\w.@*-]+(?:\/[\w.@*-]*)+$/.test(path)) return undefined;
  return topFolders.has(path.split('/')[0] as string) ? path : undefined;
}

/** Every relative link and every repository path `file` names. */
export function referencesIn(file: string, markdown: string, topFolders: ReadonlySet<string>): Reference[] {
  const references: Reference[] = [];
  proseLines(markdown).forEach((raw, index) => {
    const line = index + 1;
    const { spans, text } = splitCode(raw);
    for (const word of spans.flatMap((span) => span.split(/\s+/))) {
      const path = repositoryPath(word, topFolders);
      if (path !== undefined) references.push({ file, line, target: path, kind: 'path' });
    }
    const links = [
      ...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
      ...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g),
    ];
    for (const match of links) {
      const target = match[1] as string;
      if (!EXTERNAL.test(target)) references.push({ file, line, target, kind: 'link' });
    }
  });
  return references;
}

/** Whether `path` (repository-relative, no trailing '/') is a file or folder of the repo. */
function exists(path: string, repo: RepoView): boolean {
  if (path === '' || repo.files.has(path) || repo.generated(path)) return true;
  if (path.includes('*')) {
    const pattern = new RegExp(
      `^${path
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}(?:/|$)`,
    );
    return [...repo.files].some((file) => pattern.test(file));
  }
  const folder = `${path}/`;
  for (const file of repo.files) if (file.startsWith(folder)) return true;
  return false;
}

/** Why a reference is broken, or undefined when it resolves. */
function brokenBecause(reference: Reference, repo: RepoView): string | undefined {
  if (reference.kind === 'path') {
    return exists(reference.target.replace(/\/+$/, ''), repo) ? undefined : 'no such path';
  }
  const [rawPath = '', anchor] = reference.target.split('#', 2);
  const pathPart = decodeURIComponent(rawPath.split('?')[0] as string);
  const resolved = pathPart
    ? posix.normalize(posix.join(posix.dirname(reference.file), pathPart)).replace(/\/+$/, '')
    : reference.file;
  if (resolved.startsWith('..')) return 'leaves the repository';
  if (!exists(resolved === '.' ? '' : resolved, repo)) return 'no such file';
  if (anchor === undefined || anchor === '') return undefined;
  const text = repo.read(resolved);
  if (text === undefined) return `#${anchor} of a file that is not markdown`;
  return anchorsOf(text).has(decodeURIComponent(anchor).toLowerCase()) ? undefined : `no heading #${anchor}`;
}

/**
 * Every broken reference of the given markdown files, as `file:line → target (why)`; `kinds`
 * narrows the check (the installed package holds the docs' links, not the sources they name).
 */
export function brokenReferences(
  markdownFiles: readonly string[],
  repo: RepoView,
  kinds: readonly Reference['kind'][] = ['link', 'path'],
): string[] {
  const topFolders = new Set([
    ...repo.generatedFolders,
    ...[...repo.files].filter((file) => file.includes('/')).map((file) => file.split('/')[0] as string),
  ]);
  const broken: string[] = [];
  for (const file of markdownFiles) {
    for (const reference of referencesIn(file, repo.read(file) ?? '', topFolders)) {
      if (!kinds.includes(reference.kind)) continue;
      const why = brokenBecause(reference, repo);
      if (why !== undefined) broken.push(`${file}:${reference.line} → ${reference.target} (${why})`);
    }
  }
  return broken;
}

/** A `tflite-fn` command line of a code block: its arguments, redirections and comments removed. */
export interface CliCommand {
  line: number;
  text: string;
  args: string[];
}

/**
 * The README's first screen: everything before its second `## ` heading (the introduction and
 * the first section, where a newcomer starts).
 */
export function firstScreen(markdown: string): string {
  const lines = markdown.split('\n');
  const headings = lines.flatMap((line, index) => (/^## /.test(line) ? [index] : []));
  return lines.slice(0, headings[1] ?? lines.length).join('\n');
}

/** Splits a shell line into words, keeping quoted ones whole (enough for the README's commands). */
function shellWords(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
    (match) => match[1] ?? match[2] ?? match[3] ?? '',
  );
}

/**
 * The `tflite-fn …` and `npx tflite-fn …` commands in the code blocks of `markdown`, with the
 * shell around them removed: a `# comment`, pipes and `&&` into other commands, `< file` and
 * `> file` redirections.
 */
export function cliCommands(markdown: string): CliCommand[] {
  const commands: CliCommand[] = [];
  let inFence = false;
  markdown.split('\n').forEach((line, index) => {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      return;
    }
    if (!inFence) return;
    const code = line.replace(/(^|\s)#.*$/, '');
    for (const part of code.split(/\|\||&&|[|;]/)) {
      const words = shellWords(part.trim());
      const start = words[0] === 'npx' ? 1 : 0;
      if (words[start] !== 'tflite-fn') continue;
      const args: string[] = [];
      for (let i = start + 1; i < words.length; i++) {
        const word = words[i] as string;
        if (/^\d*[<>]{1,2}$/.test(word))
          i++; // `< photo.jpg`: the shell's, not the command's
        else if (!/^\d*[<>]/.test(word)) args.push(word);
      }
      commands.push({ line: index + 1, text: part.trim(), args });
    }
  });
  return commands;
}

/**
 * The options a command line uses, up to where its own arguments end (`run`'s program takes
 * everything after its path).
 */
export function optionsUsed(command: CliCommand): { name: string | undefined; options: string[] } {
  const first = command.args[0];
  const name = first !== undefined && !first.startsWith('-') ? first : undefined;
  const options: string[] = [];
  for (const arg of command.args.slice(name === undefined ? 0 : 1)) {
    if (name === 'run' && !arg.startsWith('-')) break;
    if (/^--?[a-zA-Z]/.test(arg)) options.push(arg.split('=')[0] as string);
  }
  return { name, options };
}

/** Whether a help text lists `option` (as `-k,`, `--top K`, `[--json]`, …). */
export function helpLists(help: string, option: string): boolean {
  const escaped = option.replace(/[-]/g, '\\-');
  return new RegExp(`(?:^|[\\s,\\[(|])${escaped}(?![\\w-])`, 'm').test(help);
}

/**
 * Whether `path` (under dist/) is something `npm run build` writes from a tracked source: a
 * compiled module (`dist/X.js`) or its types (`dist/X.d.ts`) when `X.ts` is in the repository,
 * a folder when TypeScript sources lie below its source folder. Anything else under dist/ (a
 * `.json`, a `.md`, a module whose source is gone) is not built, so the docs must not name it.
 */
export function builtFromSource(path: string, files: ReadonlySet<string>): boolean {
  if (path === 'dist' || path === 'dist/') return true;
  if (!path.startsWith('dist/')) return false;
  const rest = path.slice('dist/'.length).replace(/\/+$/, '');
  const module = /^(.+?)(?:\.d\.ts|\.js)$/.exec(rest)?.[1];
  if (module !== undefined) return files.has(`${module}.ts`);
  if (/\.[\w]+$/.test(rest)) return false; // a file tsc does not write
  return [...files].some((file) => file.startsWith(`${rest}/`) && file.endsWith('.ts'));
}
