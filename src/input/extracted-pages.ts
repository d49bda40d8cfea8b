import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { InputError, type InputErrorReason } from '../errors.js';
import type { ReadArticle } from './read.js';

type Reading = { article: ReadArticle } | { inputError: { reason: InputErrorReason; message: string } };

/**
 * The web pages a run's corpus pass read, kept until the article's own processing reads it again,
 * so each page is extracted once per run. Keyed by the path and the bytes' sha256, so a file edited
 * in between is extracted anew. Each entry is the reading (the article, or why the page gave none)
 * as deflated JSON, a few KB per article, and is let go when it is taken.
 */
export class ExtractedPages {
  private readonly entries = new Map<string, Buffer>();

  keep(path: string, bytes: Buffer, reading: Promise<ReadArticle>): Promise<ReadArticle> {
    return reading.then(
      (article) => {
        this.store(path, bytes, { article });
        return article;
      },
      (error: unknown) => {
        if (error instanceof InputError) this.store(path, bytes, { inputError: { reason: error.reason, message: error.message } });
        throw error;
      },
    );
  }

  /**
   * The article kept for these bytes, removed from the cache; undefined when there is none. Throws
   * the `InputError` the page gave, when it gave no article.
   */
  take(path: string, bytes: Buffer): ReadArticle | undefined {
    const key = keyOf(path, bytes);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    const reading = JSON.parse(inflateRawSync(entry).toString('utf8')) as Reading;
    if ('article' in reading) return reading.article;
    throw new InputError(path, reading.inputError.reason, reading.inputError.message);
  }

  private store(path: string, bytes: Buffer, reading: Reading): void {
    this.entries.set(keyOf(path, bytes), deflateRawSync(JSON.stringify(reading), { level: 1 }));
  }
}

function keyOf(path: string, bytes: Buffer): string {
  return `${path}\n${createHash('sha256').update(bytes).digest('hex')}`;
}
