import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { decodeHtml, htmlReader } from '../../src/input/html-reader.js';
import { readArticleFile, readerFor } from '../../src/input/read-file.js';
import { decodeArticle } from '../../src/input/read.js';
import {
  ARABIC_HEADING,
  ARABIC_PAGE_META,
  ARABIC_PARAGRAPHS,
  ARABIC_TITLE,
  arabicPage,
  ENGLISH_PARAGRAPHS,
  NOT_FOUND_PAGE,
  newsPage,
} from '../fixtures/pages.js';

const MAX_BYTES = 1024 * 1024;
const read = (bytes: Buffer, file = 'input/page.html') => htmlReader.read(bytes, { path: file, id: 'page', maxBytes: MAX_BYTES });

describe('decodeHtml: the HTML standard order', () => {
  it('decodes a windows-1256 Arabic page by its <meta charset>', () => {
    const decoded = decodeHtml(iconv.encode(arabicPage('windows-1256'), 'windows-1256'), 'a.html');
    expect(decoded.encoding).toBe('windows-1256');
    expect(decoded.text).toContain(ARABIC_PARAGRAPHS[0]);
  });

  it('reads the charset of a <meta http-equiv="Content-Type"> too', () => {
    const html = arabicPage().replace('<head>', '<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">');
    const decoded = decodeHtml(iconv.encode(html, 'windows-1256'), 'a.html');
    expect(decoded.encoding).toBe('windows-1256');
    expect(decoded.text).toContain(ARABIC_TITLE);
  });

  it('falls back to the text reader’s byte-level detection when nothing is declared', () => {
    const decoded = decodeHtml(iconv.encode(arabicPage(), 'windows-1256'), 'a.html');
    expect(decoded.encoding).toBe('windows-1256');
    expect(decoded.text).toContain(ARABIC_PARAGRAPHS[1]);
  });

  it('lets a byte order mark win over the <meta> declaration', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(arabicPage('windows-1256'), 'utf-16le')]);
    const decoded = decodeHtml(bytes, 'a.html');
    expect(decoded.encoding).toBe('utf-16le');
    expect(decoded.text).toContain(ARABIC_PARAGRAPHS[2]);
  });

  it('takes a declared UTF-16 in ASCII bytes as UTF-8, and passes over a label no browser knows', () => {
    expect(decodeHtml(Buffer.from(arabicPage('utf-16')), 'a.html')).toMatchObject({ encoding: 'utf-8' });
    const unknown = decodeHtml(Buffer.from(arabicPage('klingon-8')), 'a.html');
    expect(unknown.encoding).toBe('utf-8');
    expect(unknown.text).toContain(ARABIC_TITLE);
  });
});

describe('decodeHtml: a <meta charset> the bytes contradict', () => {
  it('reads valid UTF-8 as UTF-8 though the page declares windows-1256, and says so naming the file and the declaration', () => {
    const decoded = decodeHtml(Buffer.from(arabicPage('windows-1256')), 'input/a.html');
    expect(decoded.encoding).toBe('utf-8');
    expect(decoded.text).toContain(ARABIC_PARAGRAPHS[0]);
    expect(decoded.warnings).toEqual([]);
    expect(decoded.notices).toEqual([
      expect.stringMatching(/^input\/a\.html: declares charset windows-1256 in its <meta>, but its bytes are valid UTF-8.*read as UTF-8/),
    ]);
  });

  it('keeps the declaration for ASCII-only bytes, which are valid in both', () => {
    const decoded = decodeHtml(Buffer.from(`<meta charset="windows-1256"><title>Bridge</title><p>${ENGLISH_PARAGRAPHS[0]}</p>`), 'a.html');
    expect(decoded).toMatchObject({ encoding: 'windows-1256', notices: [], warnings: [] });
  });

  it('reads windows-1256 bytes under a declared UTF-8 as the same bytes with no declaration read, and says so', () => {
    const bytes = iconv.encode(arabicPage('utf-8'), 'windows-1256');
    const decoded = decodeHtml(bytes, 'input/a.html');
    expect(decoded.encoding).toBe('windows-1256');
    expect(decoded.text).toBe(
      decodeHtml(iconv.encode(arabicPage(), 'windows-1256'), 'input/a.html').text.replace('\n\n', '\n<meta charset="utf-8">\n'),
    );
    expect(decoded.warnings).toEqual([]);
    expect(decoded.notices).toEqual([
      expect.stringMatching(
        /^input\/a\.html: declares charset utf-8 in its <meta>, but its bytes are not valid UTF-8; read as windows-1256/,
      ),
    ]);
  });

  it('warns invalid-utf8 for a few damaged bytes in a UTF-8 page, as the text reader does for the same bytes', () => {
    const bytes = Buffer.from(arabicPage('utf-8'));
    bytes[bytes.indexOf(Buffer.from(ARABIC_PARAGRAPHS[1]!))] = 0xff;
    for (const charset of ['utf-8', undefined]) {
      const page = charset ? bytes : Buffer.from(bytes.toString('latin1').replace('<meta charset="utf-8">', ''), 'latin1');
      const decoded = decodeHtml(page, 'input/a.html');
      expect(decoded.encoding).toBe('utf-8');
      expect(decoded.warnings).toEqual([
        {
          reason: 'invalid-utf8',
          message: expect.stringMatching(
            /^input\/a\.html: not valid UTF-8 .* replaced with U\+FFFD, the first on line \d+; re-save the file as UTF-8$/,
          ),
        },
      ]);
      expect(decoded.warnings).toEqual([{ ...decodeArticle(page, 'input/a.html', 'a').warnings[0] }]);
    }
    expect(read(bytes).warnings.map((warning) => warning.reason)).toEqual(['invalid-utf8']);
  });
});

describe('htmlReader', () => {
  it('lays the article out as the text reader does: title first, one line per paragraph or heading', () => {
    const article = read(iconv.encode(arabicPage('windows-1256'), 'windows-1256'));
    expect(article.text.split('\n')).toEqual([
      ARABIC_TITLE,
      ...ARABIC_PARAGRAPHS.slice(0, 2),
      ARABIC_HEADING,
      ...ARABIC_PARAGRAPHS.slice(2),
    ]);
    expect(article.source).toMatchObject({ path: 'input/page.html', encoding: 'windows-1256' });
    expect(article.page).toEqual({
      ...ARABIC_PAGE_META,
      extraction: 'readability',
      removed: expect.arrayContaining([
        { text: 'Farmers at work in a wheat field near the river, photographed last spring.', reason: 'caption' },
      ]),
    });
  });

  it('unpacks a gzipped page, hashing the bytes as stored', () => {
    const packed = gzipSync(Buffer.from(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS })));
    const article = read(packed, 'input/page.html.gz');
    expect(article.text).toContain(ENGLISH_PARAGRAPHS[3]);
    expect(article.source.bytes).toBe(packed.length);
  });

  it('refuses a gzipped page that unpacks past input.maxBytes, and one that is not gzip', () => {
    const bomb = gzipSync(Buffer.alloc(4 * MAX_BYTES, 0x20));
    expect(() => read(bomb, 'input/bomb.html.gz')).toThrow(
      expect.objectContaining({ reason: 'too-large', message: expect.stringContaining('input/bomb.html.gz') }),
    );
    expect(() => read(Buffer.from('<html>not packed</html>'), 'input/plain.html.gz')).toThrow(
      expect.objectContaining({ reason: 'unreadable', message: expect.stringMatching(/^input\/plain\.html\.gz: not a valid gzip file/) }),
    );
  });

  it('ends an empty page as empty, and reads markup-less text as a browser would (one paragraph in the body)', () => {
    expect(() => read(Buffer.from(''), 'input/empty.html')).toThrow(
      expect.objectContaining({
        reason: 'empty',
        message: 'input/empty.html: the page is empty (no bytes); remove the file or save the page again',
      }),
    );
    expect(() => read(gzipSync(Buffer.from(' \n ')), 'input/blank.html.gz')).toThrow(expect.objectContaining({ reason: 'empty' }));
    expect(() => read(Buffer.from('just a few words'), 'input/words.html')).toThrow(expect.objectContaining({ reason: 'no-article' }));
    expect(read(Buffer.from(ENGLISH_PARAGRAPHS.join(' ')), 'input/text.html').text).toContain(ENGLISH_PARAGRAPHS[3]);
  });

  it('ends a page with no article as no-article, naming the file and the fix', () => {
    let error: unknown;
    try {
      read(Buffer.from(NOT_FOUND_PAGE), 'input/missing.html');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ reason: 'no-article', path: 'input/missing.html' });
    expect((error as Error).message).toMatch(/^input\/missing\.html: no article in this page: .+; if it is an article, save the full page/);
  });
});

describe('readerFor and readArticleFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-html-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gives .html, .htm and their .gz to the HTML reader, the rest to the text reader', () => {
    expect(['a.html', 'b.HTM', 'c.html.gz', 'd.htm.gz'].map((file) => readerFor(file).format)).toEqual(['html', 'html', 'html', 'html']);
    expect(['a.txt', 'b.md', 'c.gz', 'html.txt'].map((file) => readerFor(file).format)).toEqual(['text', 'text', 'text', 'text']);
  });

  it('reads a .html.gz from disk with the id of its path without both extensions', async () => {
    await writeFile(
      path.join(dir, 'story.html.gz'),
      gzipSync(Buffer.from(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS }))),
    );
    const article = await readArticleFile(path.join(dir, 'story.html.gz'), dir, MAX_BYTES);
    expect(article.id).toBe('story');
    expect(article.text.split('\n')[0]).toBe('Council rebuilds the bridge');
  });
});
