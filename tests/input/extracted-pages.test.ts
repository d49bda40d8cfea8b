import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { ExtractedPages } from '../../src/input/extracted-pages.js';
import { htmlReader } from '../../src/input/html-reader.js';
import { NOT_FOUND_PAGE, newsPage, ENGLISH_PARAGRAPHS } from '../fixtures/pages.js';

const file = { path: 'input/page.html', id: 'page', maxBytes: 1024 * 1024 };
const read = async (bytes: Buffer) => htmlReader.read(bytes, file);

describe('ExtractedPages', () => {
  it('gives back the article kept for the same path and bytes, once', async () => {
    const pages = new ExtractedPages();
    const bytes = Buffer.from(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS }));
    const article = await pages.keep(file.path, bytes, read(bytes));
    expect(pages.take(file.path, Buffer.from(bytes))).toEqual(article);
    // Taken: the entry is let go, and the next reading of the page extracts it again.
    expect(pages.take(file.path, bytes)).toBeUndefined();
  });

  it('keeps nothing for a file edited since (other bytes), nor for another path', async () => {
    const pages = new ExtractedPages();
    const bytes = Buffer.from(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS }));
    await pages.keep(file.path, bytes, read(bytes));
    expect(pages.take(file.path, Buffer.from(bytes.toString('utf8').replace('Council', 'Cabinet')))).toBeUndefined();
    expect(pages.take('input/other.html', bytes)).toBeUndefined();
    expect(pages.take(file.path, bytes)).toBeDefined();
  });

  it('keeps why a page gave no article, and throws it again', async () => {
    const pages = new ExtractedPages();
    const bytes = Buffer.from(NOT_FOUND_PAGE);
    const first = await pages.keep(file.path, bytes, read(bytes)).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(InputError);
    expect(() => pages.take(file.path, bytes)).toThrow(
      expect.objectContaining({ reason: 'no-article', message: (first as InputError).message }),
    );
  });
});
