import { readFileSync } from 'node:fs';
import type { PipelineConfig } from '../config/schema.js';
import { PoliteFetcher } from './http/index.js';
import type { Feed } from './plan.js';

// package.json is two folders up from this file both as src/fetch/fetchers.ts and as dist/fetch/fetchers.js.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `<product>/<version> (+<contact>)`, the form robots.txt groups and site operators expect. */
export function userAgent(settings: PipelineConfig['fetch']): string {
  const product = settings.userAgent.includes('/') ? settings.userAgent : `${settings.userAgent}/${version}`;
  return settings.contact ? `${product} (+${settings.contact})` : product;
}

/**
 * The night's one fetcher (one, so each host gets one request at a time and its robots.txt is read
 * once): fetch.* as its policy, and a feed's own minDelaySeconds for its host (the longest when two
 * feeds share a host). Pages on another host than their feed's get fetch.minDelaySeconds.
 */
export function politeFetcher(settings: PipelineConfig['fetch'], feeds: readonly Feed[]): PoliteFetcher {
  const delays = new Map<string, number>();
  for (const feed of feeds) {
    const host = new URL(feed.url).host;
    delays.set(host, Math.max(delays.get(host) ?? 0, feed.minDelaySeconds));
  }
  return new PoliteFetcher(
    {
      userAgent: userAgent(settings),
      allowPrivateAddresses: settings.allowPrivateAddresses,
      maxBytes: settings.maxBytes,
      firstByteSeconds: settings.firstByteSeconds,
      requestSeconds: settings.requestSeconds,
      maxRedirects: settings.maxRedirects,
      minDelaySeconds: settings.minDelaySeconds,
      retries: settings.retries,
    },
    { perHost: (host) => (delays.has(host) ? { minDelaySeconds: delays.get(host)! } : {}) },
  );
}
