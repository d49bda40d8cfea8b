import { readArticleFile, type ReadOptions } from '../input/read-file.js';
import type { ArticleFile } from '../input/read.js';
import { RepeatedLineFinder, type RepeatedLines } from '../stages/clean.js';

/**
 * The corpus pass of a run: reads every listed article once, before any is processed, and finds the
 * lines each site repeats across them (`RepeatedLineFinder`). Texts are counted and let go one by one.
 * A file that cannot be read is left out here; its own processing reports it. With `reading.keepIn`,
 * what each web page gave is kept for its processing, so it is extracted once.
 */
export async function findRunRepeatedLines(
  files: readonly ArticleFile[],
  maxBytes: number,
  /** The real input folders, when symlinks out of them are not followed (see `readArticleFile`). */
  inputRoots: readonly string[] | null,
  signal?: AbortSignal,
  reading: Omit<ReadOptions, 'signal'> = {},
): Promise<RepeatedLines> {
  const finder = new RepeatedLineFinder();
  for (const file of files) {
    // A stopped run starts no article, so what was counted so far is never used.
    if (signal?.aborted) break;
    const article = await readArticleFile(file.path, file.inputRoot, maxBytes, inputRoots, { ...reading, signal }).catch(() => null);
    if (article) finder.add(article);
  }
  return finder.result();
}
