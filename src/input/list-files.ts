import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import fsWalk from '@nodelib/fs.walk';
import fg from 'fast-glob';
import picomatch from 'picomatch';
import { OutputDirError } from '../run/output-lock.js';
import type { ArticleFile } from './read.js';

/** Files the input patterns match that are not articles of the run, by why; the run report counts them. */
export interface NotListed {
  /**
   * Hidden files, and files in hidden folders (a name starting with `.`): macOS's `._name.txt`
   * copies, editors' backups, checkouts' metadata are not articles. A pattern that names the dot
   * (`input/.drafts/*.txt`) lists them.
   */
  hidden: number;
  /** Files in the output folder, inside the input folder: the run's own outputs, never read back. */
  inOutput: number;
}

export interface ArticleListing {
  /** Sorted, each once. */
  files: ArticleFile[];
  notListed: NotListed;
}

export interface ListOptions {
  cwd?: string;
  /** `output.dir`: never listed, even where the patterns reach into it. */
  outputDir?: string;
}

const walk = promisify(fsWalk.walk);

/**
 * picomatch's `**` matches a name with a line break only with the `s` flag (its regex has `.` in
 * it); fast-glob's matching has no way to set it, so fast-glob only splits the patterns here, and
 * fs.walk (fast-glob's walker) lists the folders.
 */
const MATCH: picomatch.PicomatchOptions = { flags: 's' };

/**
 * The article files the patterns match, sorted, each once (a file reached under two names through a
 * symlink is listed under the first), with their input roots. Symlinked directories are not
 * followed, so a symlink loop cannot multiply the input; a symlink to a file is listed, and so are a
 * symlink that cannot be resolved (a loop, a dangling link) and anything that is not a regular file
 * (a FIFO), so the reader reports them instead of them vanishing silently. Patterns starting with
 * `!` exclude. Hidden files and the output folder are left out and counted (see `NotListed`); an
 * output folder that is an input root is refused (`OutputDirError`): the run would write an
 * article's outputs over `.md` and `.html` articles there, and read them back as articles.
 */
export async function listArticleFiles(patterns: readonly string[], options: ListOptions = {}): Promise<ArticleListing> {
  const cwd = options.cwd ?? process.cwd();
  const ignorePatterns = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
  const ignored = ignorePatterns.length > 0 ? picomatch(ignorePatterns, { ...MATCH, dot: true }) : () => false;
  const outputDir = options.outputDir === undefined ? undefined : await realOrResolved(path.resolve(cwd, options.outputDir));
  const found = new Map<string, ArticleFile>();
  const hidden = new Set<string>();
  const inOutput = new Set<string>();
  const listed = new Set<string>();
  for (const pattern of patterns.filter((candidate) => !candidate.startsWith('!'))) {
    const tasks = fg.generateTasks([pattern]);
    const inputRoot = tasks[0]?.base ?? '.';
    for (const task of tasks) {
      const positive = task.patterns.filter((candidate) => !candidate.startsWith('!'));
      const visible = picomatch(positive, MATCH);
      const matchesAtAll = picomatch(positive, { ...MATCH, dot: true });
      const base = path.resolve(cwd, task.base);
      const realBase = await realpath(base).catch(() => null);
      if (realBase === null) continue;
      if (outputDir === realBase) {
        throw new OutputDirError(
          `output folder ${options.outputDir} is where the input pattern ${pattern} reads articles from: each run would read its own outputs back as articles, ` +
            'and write an article’s outputs over its .md or .html file; write the outputs to another folder with --output (or output.dir)',
        );
      }
      // An output folder above the input root (`--output .` over `input/`) holds no file the walk reaches.
      const outputBelow = outputDir && isInside(outputDir, realBase) ? outputDir : undefined;
      const basePath = task.base === '.' ? undefined : task.base;
      const entries = await walk(base, {
        basePath,
        pathSegmentSeparator: '/',
        followSymbolicLinks: false,
        deepFilter: (entry) => !ignored(matchable(entry.path)),
        entryFilter: (entry) => !entry.dirent.isDirectory() && !ignored(matchable(entry.path)),
        errorFilter: (error) => error.code === 'ENOENT',
      });
      entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      for (const entry of entries) {
        if (!matchesAtAll(matchable(entry.path))) continue;
        // Below the base nothing is a followed symlink, so the real path is the base's plus the rest.
        const real = path.join(realBase, path.relative(base, path.resolve(cwd, entry.path)));
        if (outputBelow && isInside(real, outputBelow)) {
          inOutput.add(real);
          continue;
        }
        if (!visible(matchable(entry.path))) {
          hidden.add(real);
          continue;
        }
        if (entry.dirent.isSymbolicLink() && (await stat(real).catch(() => null))?.isDirectory()) continue;
        listed.add(real);
        const key = await realpath(real).catch(() => real);
        if (!found.has(key)) found.set(key, { path: entry.path, inputRoot });
      }
    }
  }
  return {
    files: [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    // Hidden to one pattern, named by another (`input/.drafts/*.txt`): listed.
    notListed: { hidden: [...hidden].filter((file) => !listed.has(file)).length, inOutput: inOutput.size },
  };
}

/** picomatch drops a pattern's leading `./`, and matches paths without one. */
function matchable(entryPath: string): string {
  return entryPath.startsWith('./') ? entryPath.slice(2) : entryPath;
}

async function realOrResolved(folder: string): Promise<string> {
  return realpath(folder).catch(() => folder);
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
