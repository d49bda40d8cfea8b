import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseFeed } from 'feedsmith';

/**
 * A feed or sitemap, bytes in, article URLs out; no I/O. Feeds (RSS 2.0, Atom, RDF/RSS 1.0, JSON
 * Feed) are read by feedsmith, sitemaps by fast-xml-parser, the parser feedsmith itself is built on
 * (bench/feed-parsers.ts compares feedsmith with @rowanmanning/feed-parser and rss-parser).
 *
 * XML safety: a document with a DTD internal subset or an entity declaration is refused before any
 * parser sees it. News feeds never need one, and refusing it outright is what keeps a billion-laughs
 * or external-entity (XXE) document from costing anything; neither parser fetches external DTDs.
 */

export interface FeedItem {
  /** Absolute http(s) URL, resolved against the feed's URL. */
  url: string;
  title: string | null;
  /** The item's date as the feed gives it, ISO 8601 when it parses as a date. */
  published: string | null;
}

export type FeedFormat = 'rss' | 'atom' | 'rdf' | 'json' | 'sitemap' | 'news-sitemap' | 'sitemap-index';

export interface FeedDocument {
  format: FeedFormat;
  items: FeedItem[];
  /** For a sitemap index: the sitemaps it lists (absolute URLs). */
  sitemaps: string[];
  /** Something wrong that still left items to take (not well-formed XML a parser recovered from). */
  warnings: string[];
}

/** The feed could not be read at all; the message names the feed, the line when there is one, and the fix. */
export class FeedError extends Error {
  override name = 'FeedError';
}

export function parseFeedDocument(text: string, feedUrl: string): FeedDocument {
  const body = text.replace(/^\uFEFF/, '');
  if (/^\s*[[{]/.test(body)) return jsonFeed(body, feedUrl);
  refuseDtd(body, feedUrl);
  const validation = XMLValidator.validate(body);
  const notWellFormed =
    validation === true
      ? null
      : `${feedUrl}: not well-formed XML at line ${validation.err.line}, column ${validation.err.col}: ${validation.err.msg.replace(/\.$/, '')}`;
  const root = /<([A-Za-z_][\w.-]*:)?(urlset|sitemapindex)\b/.exec(body.slice(0, 4096))?.[2];
  let document: FeedDocument;
  try {
    document = root ? sitemap(body, feedUrl, root) : xmlFeed(body, feedUrl);
  } catch (error) {
    if (notWellFormed) throw new FeedError(`${notWellFormed}; ask the site to fix its feed, or remove it from input.feeds`);
    throw error;
  }
  if (notWellFormed && document.items.length === 0 && document.sitemaps.length === 0) {
    throw new FeedError(`${notWellFormed}; ask the site to fix its feed, or remove it from input.feeds`);
  }
  if (notWellFormed) document.warnings.push(`${notWellFormed}; ${document.items.length} items recovered`);
  return document;
}

function refuseDtd(body: string, feedUrl: string): void {
  const match = /<!DOCTYPE[^>[]*\[|<!ENTITY/i.exec(body);
  if (!match) return;
  const line = body.slice(0, match.index).split('\n').length;
  throw new FeedError(
    `${feedUrl}: declares a DTD with entities at line ${line}; newsbridge never expands DTD entities nor loads external ones (billion laughs, XXE), so this feed is not read; remove it from input.feeds or ask the site for a plain feed`,
  );
}

function jsonFeed(body: string, feedUrl: string): FeedDocument {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const position = Number(/position (\d+)/.exec((error as Error).message)?.[1] ?? 0);
    const line = body.slice(0, position).split('\n').length;
    throw new FeedError(
      `${feedUrl}: not valid JSON at line ${line}: ${(error as Error).message}; ask the site to fix its feed, or remove it from input.feeds`,
    );
  }
  return fromFeedsmith(value, feedUrl);
}

function xmlFeed(body: string, feedUrl: string): FeedDocument {
  return fromFeedsmith(body, feedUrl);
}

type Parsed = ReturnType<typeof parseFeed>;

function fromFeedsmith(input: unknown, feedUrl: string): FeedDocument {
  let parsed: Parsed;
  try {
    parsed = parseFeed(input);
  } catch (error) {
    throw new FeedError(
      `${feedUrl}: not a feed newsbridge reads (${(error as Error).message}): expected RSS 2.0, Atom, RDF/RSS 1.0, JSON Feed or an XML sitemap; check the URL in input.feeds`,
    );
  }
  const items = feedItems(parsed).flatMap(({ link, title, published }) => {
    const url = absoluteHttpUrl(link, feedUrl);
    return url ? [{ url, title: text(title), published: isoDate(published) }] : [];
  });
  return { format: parsed.format, items, sitemaps: [], warnings: [] };
}

interface RawItem {
  link: string | undefined;
  title: unknown;
  /** feedsmith's DateLike: a string as the feed gives it. */
  published: unknown;
}

function feedItems(parsed: Parsed): RawItem[] {
  switch (parsed.format) {
    case 'rss':
      return (parsed.feed.items ?? []).map((item) => ({
        link: item.link ?? (item.guid?.isPermaLink !== false ? item.guid?.value : undefined),
        title: item.title,
        published: item.pubDate ?? item.dc?.dates?.[0],
      }));
    case 'atom':
      return (parsed.feed.entries ?? []).map((entry) => ({
        link: (entry.links?.find((link) => link.rel === undefined || link.rel === 'alternate') ?? entry.links?.[0])?.href,
        title: entry.title,
        published: entry.published ?? entry.updated,
      }));
    case 'rdf':
      return (parsed.feed.items ?? []).map((item) => ({
        link: item.link ?? item.rdf?.about,
        title: item.title,
        published: item.dc?.dates?.[0],
      }));
    case 'json':
      return (parsed.feed.items ?? []).map((item) => ({
        link: item.url,
        title: item.title,
        published: item.date_published ?? item.date_modified,
      }));
  }
}

const sitemapParser = new XMLParser({
  // Safe only because refuseDtd ran first: what is left to expand is XML's five entities and character references.
  processEntities: true,
  htmlEntities: false,
  removeNSPrefix: true,
  parseTagValue: false,
  ignoreAttributes: true,
  isArray: (name) => name === 'url' || name === 'sitemap',
});

interface SitemapUrl {
  loc?: unknown;
  lastmod?: unknown;
  news?: { title?: unknown; publication_date?: unknown };
}

function sitemap(body: string, feedUrl: string, root: string): FeedDocument {
  const parsed = sitemapParser.parse(body) as {
    urlset?: { url?: SitemapUrl[] };
    sitemapindex?: { sitemap?: { loc?: unknown }[] };
  };
  if (root === 'sitemapindex') {
    const sitemaps = (parsed.sitemapindex?.sitemap ?? []).flatMap((entry) => absoluteHttpUrl(text(entry.loc), feedUrl) ?? []);
    return { format: 'sitemap-index', items: [], sitemaps, warnings: [] };
  }
  const urls = parsed.urlset?.url ?? [];
  const items = urls.flatMap((entry) => {
    const url = absoluteHttpUrl(text(entry.loc), feedUrl);
    if (!url) return [];
    const news = typeof entry.news === 'object' ? entry.news : undefined;
    return [{ url, title: text(news?.title), published: isoDate(text(news?.publication_date) ?? text(entry.lastmod)) }];
  });
  const format = urls.some((entry) => typeof entry.news === 'object') ? 'news-sitemap' : 'sitemap';
  return { format, items, sitemaps: [], warnings: [] };
}

/** A title or location as text: feedsmith gives Atom's text constructs as `{value}`. */
function text(value: unknown): string | null {
  const raw = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const trimmed = String(raw).trim();
  return trimmed === '' ? null : trimmed;
}

function absoluteHttpUrl(link: string | null | undefined, base: string): string | null {
  if (!link) return null;
  try {
    const url = new URL(link.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function isoDate(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== 'string' || value.trim() === '') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? value.trim() : new Date(time).toISOString();
}
