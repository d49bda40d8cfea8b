import type { FetchedFrom } from '../article.js';
import type { PageLimits } from './html-extract.js';
import type { ReadArticle } from './read.js';

/**
 * One reader per input format, chosen by the file's name: bytes in, article out, no I/O. A reader
 * throws `InputError` when the bytes hold no article it can make (binary, empty, a page with no
 * article in it).
 */
export interface ArticleReader {
  /** Recorded nowhere; names the reader in messages and tests. */
  readonly format: 'text' | 'html';
  /** Whether the file, by its name, is this reader's. */
  handles(path: string): boolean;
  read(bytes: Buffer, file: ReaderFile): ReadArticle;
}

export interface ReaderFile {
  path: string;
  id: string;
  /** `input.maxBytes`; a reader that unpacks (`.html.gz`) holds the unpacked bytes to it too. */
  maxBytes: number;
  /** `input.html`'s limits on a page's DOM; the defaults when absent. */
  limits?: PageLimits;
  /** A fetched page's sidecar: the response's charset (null: it named none) and where the page came from. */
  fetched?: FetchedFrom & { charset: string | null };
}
