import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { removeStaleTempFiles } from '../output/atomic-write.js';
import { FeedError, type FeedDocument, type FeedFormat, type FeedItem, parseFeedDocument } from './feed-document.js';
import type { FeedState } from './feed-state.js';
import type { PageFetcher } from './fetcher.js';
import { type Feed, type PlannedPage, planNight } from './plan.js';
import { savedPage, savePage, sha256 } from './saved-page.js';

/**
 * One night's fetch: every feed read (conditionally), the pages they list planned (plan.ts), each
 * page requested with the validators of its saved copy, and what arrived saved. The HTTP layer is
 * the caller's (`fetcher`); everything here is the bookkeeping.
 */

export type PageOutcome = 'fetched' | 'not-modified' | 'unchanged' | 'robots-disallowed' | 'failed' | 'max-articles';

export interface PageResult {
  url: string;
  /** Relative to fetch.dir. */
  file: string;
  feed: string;
  outcome: PageOutcome;
  /** For `failed`: the HTTP layer's reason (`timeout`, `too-large`, `http-404`, `private-address`…). */
  reason?: string;
  message?: string;
}

export interface FeedResult {
  url: string;
  site: string;
  outcome: 'fetched' | 'not-modified' | 'robots-disallowed' | 'failed';
  format: FeedFormat | null;
  items: number;
  message?: string;
  warnings: string[];
}

export interface FetchReport {
  feeds: FeedResult[];
  pages: PageResult[];
  /** Pages per outcome. */
  counts: Record<PageOutcome, number>;
  interrupted: boolean;
}

export interface FetchNightOptions {
  feeds: readonly Feed[];
  /** The HTTP layer: one polite fetcher for the night (src/fetch/http). */
  fetcher: PageFetcher;
  state: FeedState;
  /** fetch.dir. */
  dir: string;
  maxArticles: number;
  /** Hosts fetched from at once; each host's pages go one at a time (the HTTP layer's rule too). */
  concurrency?: number;
  signal?: AbortSignal;
  events?: { onPlanned?(pages: number): void; onPage?(result: PageResult): void };
  now?: () => Date;
}

/** Media types saved as article pages; a response that names none is taken as HTML (the reader checks it). */
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

/** Children of a sitemap index read per night; a larger index is read in part (a warning says so). */
const MAX_CHILD_SITEMAPS = 50;

export async function fetchNight(options: FetchNightOptions): Promise<FetchReport> {
  await mkdir(options.dir, { recursive: true });
  // A night killed mid-write left temp files; none is an input (their names match no pattern) but they are litter.
  await removeStaleTempFiles(options.dir);
  const listed = await Promise.all(options.feeds.map((feed) => listFeed(feed, options)));
  const plan = planNight(
    listed.map(({ feed, items }) => ({ feed, items })),
    options.maxArticles,
  );
  options.events?.onPlanned?.(plan.pages.length);
  const pages = await fetchPages(plan.pages, options);
  const results = [
    ...pages.filter((result): result is PageResult => result != null),
    ...plan.overCap.map((page) =>
      pageResult(page, 'max-articles', { message: `over fetch.maxArticles (${options.maxArticles}); left for the next night` }),
    ),
  ];
  return {
    feeds: listed.map(({ result }) => result),
    pages: results,
    counts: countOutcomes(results),
    interrupted: Boolean(options.signal?.aborted),
  };
}

/**
 * The planned pages, in plan order (null: not requested, the night was interrupted). Each host's pages
 * go one after another and hosts in parallel, so once the signal aborts only the request each host
 * has in flight is finished: none is left waiting at the HTTP layer's host gate to start later.
 */
async function fetchPages(planned: readonly PlannedPage[], options: FetchNightOptions): Promise<(PageResult | null)[]> {
  const results: (PageResult | null)[] = planned.map(() => null);
  const byHost = new Map<string, number[]>();
  for (const [index, page] of planned.entries()) {
    const host = new URL(page.url).host;
    byHost.set(host, [...(byHost.get(host) ?? []), index]);
  }
  const queue = new PQueue({ concurrency: options.concurrency ?? 8 });
  await Promise.all(
    [...byHost.values()].map((indexes) =>
      queue.add(async () => {
        for (const index of indexes) {
          if (options.signal?.aborted) return;
          const result = await fetchPage(planned[index]!, options);
          results[index] = result;
          options.events?.onPage?.(result);
        }
      }),
    ),
  );
  return results;
}

function countOutcomes(results: readonly PageResult[]): Record<PageOutcome, number> {
  const counts: Record<PageOutcome, number> = {
    fetched: 0,
    'not-modified': 0,
    unchanged: 0,
    'robots-disallowed': 0,
    failed: 0,
    'max-articles': 0,
  };
  for (const result of results) counts[result.outcome] += 1;
  return counts;
}

interface ListedFeed {
  feed: Feed;
  items: FeedItem[];
  result: FeedResult;
}

async function listFeed(feed: Feed, options: FetchNightOptions): Promise<ListedFeed> {
  const base = { url: feed.url, site: feed.site };
  const read = await readFeed(feed.url, options);
  if ('failure' in read) {
    return {
      feed,
      items: [],
      result: { ...base, outcome: read.failure.kind, format: null, items: 0, message: read.failure.message, warnings: [] },
    };
  }
  const { document } = read;
  const items = [...document.items];
  const warnings = [...document.warnings];
  if (document.format === 'sitemap-index') {
    if (document.sitemaps.length > MAX_CHILD_SITEMAPS) {
      warnings.push(`${feed.url}: lists ${document.sitemaps.length} sitemaps; the first ${MAX_CHILD_SITEMAPS} are read`);
    }
    for (const child of document.sitemaps.slice(0, MAX_CHILD_SITEMAPS)) {
      if (items.length >= feed.maxItems) break;
      const childRead = await readFeed(child, options);
      if ('failure' in childRead) warnings.push(childRead.failure.message);
      else if (childRead.document.format === 'sitemap-index')
        warnings.push(`${child}: a sitemap index inside a sitemap index is not followed`);
      else {
        items.push(...childRead.document.items);
        warnings.push(...childRead.document.warnings);
      }
    }
  }
  return { feed, items, result: { ...base, outcome: read.outcome, format: document.format, items: items.length, warnings } };
}

type FeedRead =
  | { outcome: 'fetched' | 'not-modified'; document: FeedDocument }
  | { failure: { kind: 'robots-disallowed' | 'failed'; message: string } };

/** One feed or sitemap, conditionally: a 304 gives the document the state kept from its last 200. */
async function readFeed(url: string, options: FetchNightOptions): Promise<FeedRead> {
  const known = options.state.get(url);
  const outcome = await options.fetcher.fetch(url, known ?? {});
  if (outcome.kind === 'robots-disallowed' || outcome.kind === 'failed') {
    return { failure: { kind: outcome.kind, message: `${url}: ${outcome.message}` } };
  }
  if (outcome.kind === 'not-modified') {
    if (known) return { outcome: 'not-modified', document: known.document };
    return {
      failure: { kind: 'failed', message: `${url}: answered 304 Not Modified to a request without validators; the server is misbehaving` },
    };
  }
  let document: FeedDocument;
  try {
    document = parseFeedDocument(decodeFeed(outcome.body, outcome.charset), outcome.finalUrl);
  } catch (error) {
    if (!(error instanceof FeedError)) throw error;
    return { failure: { kind: 'failed', message: error.message } };
  }
  const now = (options.now ?? (() => new Date()))().toISOString();
  options.state.put({ url, finalUrl: outcome.finalUrl, etag: outcome.etag, lastModified: outcome.lastModified, fetchedAt: now, document });
  return { outcome: 'fetched', document };
}

/**
 * A feed's text: a byte order mark, else the response's charset, else the XML declaration's
 * encoding, else UTF-8 (XML's default; JSON Feed is always UTF-8).
 */
export function decodeFeed(body: Buffer, charset: string | null): string {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return new TextDecoder('utf-8').decode(body);
  if ((body[0] === 0xff && body[1] === 0xfe) || (body[0] === 0xfe && body[1] === 0xff)) return new TextDecoder('utf-16').decode(body);
  const declared = /^<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(body.subarray(0, 200).toString('latin1'))?.[1];
  for (const label of [charset, declared]) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(body);
    } catch {
      // A label TextDecoder does not know: the next source decides.
    }
  }
  return new TextDecoder('utf-8').decode(body);
}

function pageResult(page: PlannedPage, outcome: PageOutcome, extra: { reason?: string; message?: string } = {}): PageResult {
  return { url: page.url, file: page.file, feed: page.feed.url, outcome, ...extra };
}

/** One page: requested with its saved copy's validators; saved only when its bytes are new. */
async function fetchPage(page: PlannedPage, options: FetchNightOptions): Promise<PageResult> {
  const path = join(options.dir, page.file);
  const saved = await savedPage(path);
  const outcome = await options.fetcher.fetch(page.url, saved ?? {});
  switch (outcome.kind) {
    case 'not-modified':
      return pageResult(page, 'not-modified');
    case 'robots-disallowed':
      return pageResult(page, 'robots-disallowed', { message: outcome.message });
    case 'failed':
      return pageResult(page, 'failed', { reason: outcome.reason, message: outcome.message });
  }
  // Saved as `.html`, anything else (a PDF, an image, a feed linking to itself) would only fail the run later.
  if (outcome.contentType !== null && !HTML_TYPES.has(outcome.contentType)) {
    const message = `${outcome.finalUrl}: is ${outcome.contentType}, not a web page; only HTML article pages are saved`;
    return pageResult(page, 'failed', { reason: 'not-html', message });
  }
  // A server that ignores validators sends the same bytes again: nothing to rewrite.
  if (saved && saved.sha256 === sha256(outcome.body)) return pageResult(page, 'unchanged');
  await savePage(path, outcome.body, {
    url: page.url,
    finalUrl: outcome.finalUrl,
    feed: page.feed.url,
    title: page.title,
    feedDate: page.feedDate,
    language: page.feed.language,
    charset: outcome.charset,
    etag: outcome.etag,
    lastModified: outcome.lastModified,
    fetchedAt: (options.now ?? (() => new Date()))().toISOString(),
  });
  return pageResult(page, 'fetched');
}
