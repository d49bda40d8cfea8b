import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import fg from 'fast-glob';
import MarkdownIt from 'markdown-it';
import { repoRoot } from './repo-root.js';

/**
 * `npm run docs:check`: every ```ts / ```typescript block of README.md and docs/ typechecks, so no
 * example in the documentation can drift from the code. Each block is a module of its own and is
 * compiled as a user would write it: the package imported as `newsbridge` (resolved to src/index.ts,
 * so no build is needed), top-level `await` allowed, every name it uses declared or imported. Errors
 * are printed at the Markdown file and line they come from.
 */

export interface DocSnippet {
  /** The Markdown file, as given. */
  file: string;
  /** 1-based line in the Markdown file of the block's first line of code. */
  line: number;
  code: string;
}

const TYPESCRIPT_FENCES = new Set(['ts', 'typescript']);
const markdown = new MarkdownIt();

/** The TypeScript blocks of a Markdown text, in order. */
export function extractSnippets(text: string, file: string): DocSnippet[] {
  return markdown
    .parse(text, {})
    .filter((token) => token.type === 'fence' && TYPESCRIPT_FENCES.has(token.info.trim().split(/\s+/)[0] ?? '') && token.map)
    .map((token) => ({ file, line: token.map![0] + 2, code: token.content }));
}

/** A diagnostic as `tsc --pretty false` prints it: `file(line,col): error TS2554: message`, continued on indented lines. */
const DIAGNOSTIC = /^(.+)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/;

const tsc = path.join(repoRoot, 'node_modules', '.bin', 'tsc');

/**
 * Typechecks the snippets with the project's compiler options, in a folder inside the repository so
 * that packages and the `newsbridge` mapping resolve as they do for the code. Returns one message per
 * diagnostic, `README.md:1340:5: error TS2554: …`; an error in a file that is not a snippet (a
 * declaration the snippets pull in) keeps its own path.
 */
export async function checkSnippets(snippets: readonly DocSnippet[]): Promise<string[]> {
  if (snippets.length === 0) return [];
  const dir = await mkdtemp(path.join(repoRoot, '.doc-snippets-'));
  try {
    const names = snippets.map((_, i) => `snippet-${i}.ts`);
    await Promise.all(snippets.map((snippet, i) => writeFile(path.join(dir, names[i]!), snippet.code)));
    const tsconfig = {
      extends: '../tsconfig.json',
      compilerOptions: {
        noEmit: true,
        rootDir: '..',
        // A block without imports is still a module: blocks never share top-level names.
        moduleDetection: 'force',
        paths: { newsbridge: ['../src/index.ts'] },
        // As in a test file: vitest's types, and what the test setup declares `inject()` provides.
        types: ['node', 'vitest'],
      },
      include: ['*.ts', '../tests/setup/models.ts'],
    };
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const output = await promisify(execFile)(tsc, ['-p', path.join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: repoRoot }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string; code?: unknown }) => {
        // tsc exits 2 with the diagnostics on stdout; anything else is tsc itself failing.
        if (typeof error.stdout !== 'string' || error.stdout === '') throw error;
        return error.stdout;
      },
    );
    return diagnostics(output, (file) => {
      const index = names.indexOf(path.relative(dir, path.resolve(repoRoot, file)));
      return index >= 0 ? snippets[index]! : null;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** tsc's diagnostics, each moved to the Markdown line its snippet line stands on. */
function diagnostics(output: string, snippetOf: (file: string) => DocSnippet | null): string[] {
  const messages: string[] = [];
  for (const line of output.split('\n')) {
    const match = DIAGNOSTIC.exec(line);
    if (match) {
      const [, file, row, column, severity, code, text] = match as unknown as [string, string, string, string, string, string, string];
      const snippet = snippetOf(file);
      const where = snippet ? `${snippet.file}:${snippet.line + Number(row) - 1}:${column}` : `${file}:${row}:${column}`;
      messages.push(`${where}: ${severity} ${code}: ${text}`);
    } else if (line.startsWith(' ') && messages.length > 0) {
      messages[messages.length - 1] += `\n${line}`;
    }
  }
  return messages;
}

async function main(): Promise<void> {
  const files = ['README.md', ...(await fg('docs/**/*.md', { cwd: repoRoot })).sort()];
  const snippets = (
    await Promise.all(files.map(async (file) => extractSnippets(await readFile(path.join(repoRoot, file), 'utf8'), file)))
  ).flat();
  const problems = await checkSnippets(snippets);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
  console.log(`${snippets.length} TypeScript blocks in ${files.join(', ')} typecheck`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
