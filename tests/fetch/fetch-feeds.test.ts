import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import type { FeedSpec } from '../../src/config/schema.js';
import { canonicalUrl, pageFileName } from '../../src/fetch/canonical-url.js';
import { fetchFeeds } from '../../src/fetch/fetch-feeds.js';
import type { FetchReport } from '../../src/fetch/fetch-night.js';
import { renderFetchReport } from '../../src/fetch/report.js';
import { savedPageSchema, SIDECAR_SUFFIX } from '../../src/fetch/saved-page.js';
import { readArticleFile } from '../../src/input/read-file.js';
import { repoRoot } from '../../tools/repo-root.js';
import { LEGACY_TEXT, type NewsSite, pagePath, startNewsSite } from './news-site.js';

let site: NewsSite;
let scratch: string;
beforeAll(async () => {
  site = await startNewsSite();
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-fetch-'));
});
afterAll(async () => {
  await site.close();
  await rm(scratch, { recursive: true, force: true });
});

let workspaces = 0;
/** A config whose fetch state and folder are its own; private addresses allowed to reach 127.0.0.1. */
function configFor(feeds: (string | (FeedSpec & object))[], root = path.join(scratch, `w${++workspaces}`)): PipelineConfig {
  return {
    ...defaultConfig,
    input: {
      ...defaultConfig.input,
      feeds: feeds.map((feed) => (typeof feed === 'string' ? `${site.origin}${feed}` : { ...feed, url: `${site.origin}${feed.url}` })),
    },
    fetch: {
      ...defaultConfig.fetch,
      dir: path.join(root, 'input', 'web'),
      state: path.join(root, 'state', 'fetch.sqlite'),
      contact: 'https://example.test/contact',
      allowPrivateAddresses: true,
      minDelaySeconds: 0,
      retries: 0,
    },
  };
}

const fileOf = (page: string) => pageFileName(canonicalUrl(`${site.origin}${page}`));

async function mtimes(dir: string): Promise<Map<string, number>> {
  const files = (await readdir(dir, { recursive: true })).map(String).sort();
  return new Map(await Promise.all(files.map(async (file) => [file, (await stat(path.join(dir, file))).mtimeMs] as [string, number])));
}

describe('fetchFeeds over a 50-item feed on 127.0.0.1', () => {
  // Built in beforeAll: the site and scratch folder exist only once the outer beforeAll ran.
  let config: PipelineConfig;
  let first: FetchReport;

  beforeAll(async () => {
    config = configFor(['/feed.xml']);
    first = (await fetchFeeds(config))!;
  });

  it('first night: fetches all 50 pages, each saved as it arrived with its sidecar', async () => {
    expect(first.feeds).toEqual([expect.objectContaining({ outcome: 'fetched', format: 'rss', items: 50 })]);
    expect(first.counts).toMatchObject({ fetched: 50, 'not-modified': 0, failed: 0 });
    for (const [page, bytes] of site.pages) {
      const file = path.join(config.fetch.dir, fileOf(page));
      expect(await readFile(file)).toEqual(bytes);
      const sidecar = savedPageSchema.parse(JSON.parse(await readFile(`${file}${SIDECAR_SUFFIX}`, 'utf8')));
      expect(sidecar).toMatchObject({ url: `${site.origin}${page}`, feed: `${site.origin}/feed.xml`, charset: 'utf-8' });
      expect(sidecar.title).toMatch(/^Story \d+$/);
      expect(sidecar.feedDate).toMatch(/^2026-12-07T06:\d\d:00\.000Z$/);
      expect(sidecar.etag).toMatch(/^"[0-9a-f]{16}"$/);
    }
    expect(renderFetchReport(first)).toMatch(/^fetch: 1 feed \(1 fetched\); 50 pages: 50 fetched$/);
    const report = JSON.parse(await readFile(path.join(path.dirname(config.fetch.state), 'fetch-report.json'), 'utf8'));
    expect(report.counts.fetched).toBe(50);
    // Every request, robots.txt included, names newsbridge, its version and the contact of the config.
    const { version } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(new Set(site.requests.map((request) => request.userAgent))).toEqual(
      new Set([`newsbridge/${version} (+https://example.test/contact)`]),
    );
  });

  it('second night: the feed and every page answer 304, and nothing is rewritten', async () => {
    const before = await mtimes(config.fetch.dir);
    const requests = site.requests.length;
    const second = (await fetchFeeds(config))!;
    expect(second.feeds[0]).toMatchObject({ outcome: 'not-modified', items: 50 });
    expect(second.counts).toMatchObject({ fetched: 0, 'not-modified': 50 });
    const night = site.requests.slice(requests).filter((request) => request.path !== '/robots.txt');
    expect(night).toHaveLength(51);
    expect(night.every((request) => request.status === 304)).toBe(true);
    expect(await mtimes(config.fetch.dir)).toEqual(before);
  });

  it('an edited page is fetched again, the others not', async () => {
    const edited = pagePath(3);
    site.edit(edited, Buffer.concat([site.pages.get(edited)!, Buffer.from('<!-- corrected -->\n')]));
    const third = (await fetchFeeds(config))!;
    expect(third.counts).toMatchObject({ fetched: 1, 'not-modified': 49 });
    expect(third.pages.find((page) => page.outcome === 'fetched')?.url).toBe(`${site.origin}${edited}`);
    expect(await readFile(path.join(config.fetch.dir, fileOf(edited)))).toEqual(site.pages.get(edited));
  });
});

describe('fetchFeeds across feeds', () => {
  it('reads RDF, JSON Feed, a sitemap index (a sitemap and a Google News sitemap inside) and fetches what they list', async () => {
    const config = configFor(['/rdf.xml', '/feed.json', '/sitemap-index.xml']);
    const report = (await fetchFeeds(config))!;
    expect(report.feeds.map((feed) => [feed.outcome, feed.format, feed.items])).toEqual([
      ['fetched', 'rdf', 5],
      ['fetched', 'json', 5],
      ['fetched', 'sitemap-index', 10],
    ]);
    expect(report.counts).toMatchObject({ fetched: 20, failed: 0 });
    const fetched = new Set(report.pages.map((page) => page.url));
    expect(fetched).toEqual(new Set(Array.from({ length: 20 }, (_, index) => `${site.origin}${pagePath(index)}`)));
    const sidecar = savedPageSchema.parse(
      JSON.parse(await readFile(path.join(config.fetch.dir, `${fileOf(pagePath(17))}${SIDECAR_SUFFIX}`), 'utf8')),
    );
    expect(sidecar).toMatchObject({ feed: `${site.origin}/sitemap-index.xml`, title: 'Story 17', feedDate: '2026-12-07T06:17:00.000Z' });
  });

  it('revalidates by Last-Modified alone, and leaves a page a server sends again unchanged untouched', async () => {
    const config = configFor(['/dated.xml', '/stubborn.xml']);
    expect((await fetchFeeds(config))!.counts).toMatchObject({ fetched: 6 });
    const before = await mtimes(config.fetch.dir);
    const from = site.requests.length;
    const second = (await fetchFeeds(config))!;
    expect(second.feeds.map((feed) => feed.outcome)).toEqual(['not-modified', 'fetched']);
    expect(second.pages.map((page) => [new URL(page.url).search, page.outcome])).toEqual([
      ...[0, 1, 2].map(() => ['?v=date', 'not-modified']),
      ...[3, 4, 5].map(() => ['?v=none', 'unchanged']),
    ]);
    expect(site.requests.slice(from).filter((request) => request.status === 304)).toHaveLength(4);
    expect(await mtimes(config.fetch.dir)).toEqual(before);
    expect(renderFetchReport(second)).toContain('6 pages: 0 fetched, 3 not modified, 3 unchanged (same bytes again)');
  });

  it("keeps a feed's own delay between requests to its host, and records its site and language hint", async () => {
    const config = configFor([{ url: '/rdf.xml', site: 'RDF Daily', language: 'ar', minDelaySeconds: 0.2 }]);
    const from = site.requests.length;
    const report = (await fetchFeeds(config))!;
    expect(report.feeds[0]).toMatchObject({ site: 'RDF Daily', outcome: 'fetched', items: 5 });
    expect(report.counts.fetched).toBe(5);
    // robots.txt, the feed, then the five pages, each answered at least the feed's delay after the one before
    // (a lower bound the fetcher enforces, less 5 ms of timer rounding; no upper bound is assumed).
    const night = site.requests.slice(from);
    expect(night.map((request) => request.path)).toEqual(['/robots.txt', '/rdf.xml', ...[0, 1, 2, 3, 4].map(pagePath)]);
    for (const [index, request] of night.entries()) if (index > 0) expect(request.at - night[index - 1]!.at).toBeGreaterThanOrEqual(195);
    const sidecar = savedPageSchema.parse(
      JSON.parse(await readFile(path.join(config.fetch.dir, `${fileOf(pagePath(0))}${SIDECAR_SUFFIX}`), 'utf8')),
    );
    expect(sidecar.language).toBe('ar');
  });

  it('reads a saved page with the charset it was served with, over a wrong <meta>, and says where it came from', async () => {
    const config = configFor(['/legacy.xml']);
    const report = (await fetchFeeds(config))!;
    expect(report.counts.fetched).toBe(1);
    const file = path.join(config.fetch.dir, report.pages[0]!.file);
    const article = await readArticleFile(file, config.fetch.dir, defaultConfig.input.maxBytes);
    expect(article.source.encoding).toBe('windows-1256');
    expect(article.text).toContain(LEGACY_TEXT);
    expect(article.fetched).toEqual({
      url: `${site.origin}/legacy.html`,
      feed: `${site.origin}/legacy.xml`,
      feedDate: '2026-12-07T06:00:00.000Z',
    });
    // The same bytes without their sidecar are read by their <meta>, which is wrong: the sidecar is what made the difference.
    await rm(`${file}${SIDECAR_SUFFIX}`);
    const unsaved = await readArticleFile(file, config.fetch.dir, defaultConfig.input.maxBytes);
    expect(unsaved.text).not.toContain(LEGACY_TEXT);
    expect(unsaved.fetched).toBeUndefined();
  });

  it('fetches an article two feeds list under different tracking parameters once', async () => {
    const config = configFor(['/feed.xml', '/atom.xml']);
    const before = site.served(pagePath(0));
    const report = (await fetchFeeds(config))!;
    expect(report.feeds.map((feed) => [feed.format, feed.items])).toEqual([
      ['rss', 50],
      ['atom', 10],
    ]);
    expect(report.counts.fetched).toBe(50);
    expect(site.served(pagePath(0)) - before).toBe(1);
    expect(report.pages.every((page) => page.feed === `${site.origin}/feed.xml`)).toBe(true);
  });

  it('reports a malformed feed with its line and a billion-laughs feed as refused; the good feed still comes in', async () => {
    const config = configFor(['/broken.xml', '/bomb.xml', '/feed.xml']);
    config.fetch.maxArticles = 5;
    const report = (await fetchFeeds(config))!;
    expect(report.feeds[0]).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(/broken\.xml: not well-formed XML at line \d+, column \d+/),
    });
    expect(report.feeds[1]).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(/bomb\.xml: declares a DTD with entities at line 2/),
    });
    expect(report.feeds[2]).toMatchObject({ outcome: 'fetched', items: 50 });
    expect(report.counts).toMatchObject({ fetched: 5, 'max-articles': 45 });
    const text = renderFetchReport(report);
    expect(text).toContain('feed failed: ');
    expect(text).toContain('45 left for the next night (fetch.maxArticles)');
  });

  it("reports pages robots.txt disallows and pages that fail, with the HTTP layer's reason; saves no PDF as a page", async () => {
    const config = configFor(['/private.xml']);
    const report = (await fetchFeeds(config))!;
    expect(report.pages.map((page) => [page.url.replace(site.origin, ''), page.outcome, page.reason])).toEqual([
      ['/private/secret.html', 'robots-disallowed', undefined],
      ['/missing.html', 'failed', 'http-status'],
      ['/report.pdf', 'failed', 'not-html'],
    ]);
    expect(site.served('/private/secret.html')).toBe(0);
    expect(await readdir(config.fetch.dir)).toEqual([]);
    const text = renderFetchReport(report);
    expect(text).toMatch(/failed not-html: http:\/\/127\.0\.0\.1:\d+\/report\.pdf: .*is application\/pdf, not a web page/);
    expect(text).toMatch(/skipped by robots\.txt/);
    expect(text).toMatch(/failed http-status: http:\/\/127\.0\.0\.1:\d+\/missing\.html: /);
  });

  it('refuses the loopback feed with private addresses off, as the report says', async () => {
    const config = configFor(['/feed.xml']);
    config.fetch.allowPrivateAddresses = false;
    const report = (await fetchFeeds(config))!;
    expect(report.feeds[0]).toMatchObject({ outcome: 'failed' });
    expect(report.pages).toEqual([]);
  });

  it('touches nothing without feeds, and refuses to start without a contact', async () => {
    expect(await fetchFeeds(configFor([]))).toBeNull();
    const config = configFor(['/feed.xml']);
    delete config.fetch.contact;
    await expect(fetchFeeds(config)).rejects.toThrow(/fetch\.contact is not set/);
  });
});
