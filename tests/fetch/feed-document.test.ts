import { describe, expect, it } from 'vitest';
import { FeedError, parseFeedDocument } from '../../src/fetch/feed-document.js';
import { atom, billionLaughs, jsonFeed, newsSitemap, rdf, rss, sitemap, sitemapIndex } from './feeds.js';

const FEED = 'http://news.test/feed.xml';
const entries = [
  { url: 'http://news.test/a/one.html', title: 'One & only', date: '2026-12-07T08:00:00.000Z' },
  { url: 'http://news.test/a/two.html?id=2', title: 'Two', date: '2026-12-07T09:30:00.000Z' },
];
const expected = entries.map((entry) => ({ url: entry.url, title: entry.title, published: entry.date }));

describe('parseFeedDocument', () => {
  it.each([
    ['rss', rss],
    ['atom', atom],
    ['rdf', rdf],
    ['json', jsonFeed],
  ] as const)('reads a %s feed: URL, title and date of each item', (format, write) => {
    const document = parseFeedDocument(write(entries), FEED);
    expect(document.format).toBe(format);
    expect(document.items).toEqual(expected);
    expect(document.warnings).toEqual([]);
  });

  it('reads an XML sitemap (lastmod as the date) and a Google News sitemap (its title and publication date)', () => {
    expect(parseFeedDocument(sitemap(entries), FEED)).toMatchObject({
      format: 'sitemap',
      items: expected.map((item) => ({ ...item, title: null })),
    });
    expect(parseFeedDocument(newsSitemap(entries), FEED)).toMatchObject({ format: 'news-sitemap', items: expected });
  });

  it('reads a sitemap index as the sitemaps it lists', () => {
    const document = parseFeedDocument(sitemapIndex(['http://news.test/s1.xml', '/s2.xml']), FEED);
    expect(document).toMatchObject({
      format: 'sitemap-index',
      items: [],
      sitemaps: ['http://news.test/s1.xml', 'http://news.test/s2.xml'],
    });
  });

  it('resolves relative links against the feed and drops links that are not http(s)', () => {
    const document = parseFeedDocument(
      rss([
        { url: '/relative/page', title: 'r', date: '2026-12-07T00:00:00Z' },
        { url: 'javascript:alert(1)', title: 'j', date: '2026-12-07T00:00:00Z' },
        { url: 'mailto:a@b.test', title: 'm', date: '2026-12-07T00:00:00Z' },
      ]),
      FEED,
    );
    expect(document.items.map((item) => item.url)).toEqual(['http://news.test/relative/page']);
  });

  it('fails a feed that is not well-formed with the feed, the line and the column', () => {
    const broken = rss(entries).replace('</title>\n      <link>http://news.test/a/one.html', '\n      <link>http://news.test/a/one.html');
    expect(() => parseFeedDocument(broken, FEED)).toThrow(FeedError);
    expect(() => parseFeedDocument(broken, FEED)).toThrow(
      /^http:\/\/news\.test\/feed\.xml: not well-formed XML at line \d+, column \d+: .*remove it from input\.feeds/,
    );
  });

  it('fails a billion-laughs feed at once, naming the DTD line, without expanding anything', () => {
    const started = process.memoryUsage().heapUsed;
    expect(() => parseFeedDocument(billionLaughs(), FEED)).toThrow(
      /feed\.xml: declares a DTD with entities at line 2; newsbridge never expands DTD entities/,
    );
    // 10^10 expansions would need gigabytes; nothing of the kind was allocated.
    expect(process.memoryUsage().heapUsed - started).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses an external entity (XXE) the same way', () => {
    const xxe = `<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<rss version="2.0"><channel><title>&secret;</title></channel></rss>`;
    expect(() => parseFeedDocument(xxe, FEED)).toThrow(/declares a DTD with entities at line 2/);
  });

  it('fails a document that is no feed, and JSON that does not parse, with what was expected', () => {
    expect(() => parseFeedDocument('<html><body>hello</body></html>', FEED)).toThrow(
      /not a feed newsbridge reads .*expected RSS 2\.0, Atom/,
    );
    expect(() => parseFeedDocument('{\n  "version": \n}', FEED)).toThrow(/feed\.xml: not valid JSON at line \d+/);
  });

  it('keeps the items a parser recovered from a feed with a stray ampersand, with a warning naming the line', () => {
    const sloppy = rss(entries).replace('One &amp; only', 'One & only');
    const document = parseFeedDocument(sloppy, FEED);
    expect(document.items.map((item) => item.url)).toEqual(expected.map((item) => item.url));
    expect(document.warnings).toEqual([
      expect.stringMatching(/feed\.xml: not well-formed XML at line 7, column 18: .* 2 items recovered$/),
    ]);
  });
});
