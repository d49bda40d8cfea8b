import { createHash } from 'node:crypto';
import path from 'node:path';
import { type ArticleFile, withoutExtension } from './read.js';

/**
 * Ids name an article's outputs (`<id>.json`, `<id>.md`, `<id>.html`), so they must be unique within
 * a run, the same from one run to the next, and never one of the names the run writes for itself.
 * Lower-cased before comparing: the output folder may sit on a case-insensitive file system.
 * `index` is the HTML output's `index.html`.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['manifest', 'run-report', 'index']);

export type IdentifiedFile = ArticleFile & { id: string };

/**
 * Gives each file its id: its path relative to the input root (with several roots, to the folder
 * they share, so `d1/x.txt` and `d2/x.txt` become `d1/x` and `d2/x`), without the extension. Files
 * whose ids would clash — `a.txt` beside `a.md`, or an article named `run-report.txt` — keep their
 * extension (`a.txt`, `a.md`, `run-report.txt`); the last resort for names that differ only in case
 * is a short hash of the path. Depends only on the paths and the patterns, not on their order.
 */
export function assignArticleIds(files: readonly ArticleFile[], cwd: string = process.cwd()): IdentifiedFile[] {
  const base = commonFolder(files.map((file) => path.resolve(cwd, file.inputRoot)));
  const names = files.map((file) => {
    const relative = path.relative(base, path.resolve(cwd, file.path));
    const name = relative.startsWith('..') || path.isAbsolute(relative) ? path.basename(file.path) : relative;
    return name.split(path.sep).join('/');
  });
  const ids = names.map(withoutExtension);
  for (let changed = true; changed; ) {
    changed = false;
    const counts = countBy(ids);
    ids.forEach((id, index) => {
      const key = id.toLowerCase();
      if (id !== names[index] && ((counts.get(key) ?? 0) > 1 || RESERVED_IDS.has(key))) {
        ids[index] = names[index]!;
        changed = true;
      }
    });
  }
  const counts = countBy(ids);
  return files.map((file, index) => {
    const id = ids[index]!;
    if ((counts.get(id.toLowerCase()) ?? 0) === 1) return { ...file, id };
    const hash = createHash('sha256').update(path.resolve(cwd, file.path)).digest('hex').slice(0, 8);
    return { ...file, id: `${id}~${hash}` };
  });
}

function countBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id.toLowerCase(), (counts.get(id.toLowerCase()) ?? 0) + 1);
  return counts;
}

/** The deepest folder that holds all of `folders` (absolute paths). */
function commonFolder(folders: readonly string[]): string {
  const [first, ...rest] = folders.map((folder) => folder.split(path.sep));
  if (!first) return process.cwd();
  let length = first.length;
  for (const parts of rest) {
    let same = 0;
    while (same < Math.min(length, parts.length) && parts[same] === first[same]) same++;
    length = same;
  }
  return first.slice(0, length).join(path.sep) || path.sep;
}
