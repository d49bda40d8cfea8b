import type { FeedSpec } from '../config/schema.js';
import { canonicalUrl, pageFileName } from './canonical-url.js';
import type { FeedItem } from './feed-document.js';

/**
 * Which pages a night requests, decided from the feeds' items alone (no I/O): each canonical URL
 * once, attributed to the first feed (in input.feeds order) that lists it; at most each feed's
 * `maxItems` of its own items, in the feed's order; at most `maxArticles` over all.
 */

export interface Feed {
  url: string;
  site: string;
  language: string | null;
  minDelaySeconds: number;
  maxItems: number;
}

export interface PlannedPage {
  /** Canonical URL: what is requested, and what names the file. */
  url: string;
  /** Relative to fetch.dir. */
  file: string;
  feed: Feed;
  title: string | null;
  feedDate: string | null;
}

export interface NightPlan {
  pages: PlannedPage[];
  /** Pages past fetch.maxArticles: left for the next night. */
  overCap: PlannedPage[];
}

export function feedsOf(specs: readonly FeedSpec[], defaults: { minDelaySeconds: number; maxItemsPerFeed: number }): Feed[] {
  return specs.map((spec) => {
    const entry = typeof spec === 'string' ? { url: spec } : spec;
    return {
      url: entry.url,
      site: entry.site ?? new URL(entry.url).host,
      language: entry.language ?? null,
      minDelaySeconds: entry.minDelaySeconds ?? defaults.minDelaySeconds,
      maxItems: entry.maxItems ?? defaults.maxItemsPerFeed,
    };
  });
}

export function planNight(listed: readonly { feed: Feed; items: readonly FeedItem[] }[], maxArticles: number): NightPlan {
  const seen = new Set<string>();
  const pages: PlannedPage[] = [];
  for (const { feed, items } of listed) {
    let taken = 0;
    for (const item of items) {
      if (taken >= feed.maxItems) break;
      const url = canonicalUrl(item.url);
      if (seen.has(url)) continue;
      seen.add(url);
      taken += 1;
      pages.push({ url, file: pageFileName(url), feed, title: item.title, feedDate: item.published });
    }
  }
  return { pages: pages.slice(0, maxArticles), overCap: pages.slice(maxArticles) };
}
