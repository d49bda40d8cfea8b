/** robots.txt per origin (RFC 9309), parsed by robots-parser: fetched once per fetcher, then asked per URL. */
import robotsParserModule from 'robots-parser';

// The package is CommonJS (module.exports = the function) but its types declare an ES default export.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;
import type { FetchOutcome } from './types.js';

/** What an origin's robots.txt says, as far as newsbridge acts on it. */
export interface RobotsRules {
  allows(url: string): boolean;
  /** Crawl-delay for our user agent, seconds; undefined when not given. */
  crawlDelaySeconds: number | undefined;
  /** Why everything is refused, when robots.txt could not be read (a 5xx or no answer: RFC 9309 §2.3.1.4). */
  unreachable?: string;
}

/**
 * Reads a robots.txt fetch: a 2xx is parsed; a 4xx means no rules (RFC 9309 §2.3.1.3); a 5xx, a timeout or
 * a network failure means the site may not want crawling now, so every URL on it is refused for this fetcher.
 * Other failures (a private address, a redirect loop) are returned for the page fetch to report.
 */
export function robotsRules(robotsUrl: string, outcome: FetchOutcome, userAgent: string): RobotsRules | FetchOutcome {
  if (outcome.kind === 'fetched') {
    const robots = robotsParser(robotsUrl, outcome.body.toString('utf8'));
    const crawlDelay = robots.getCrawlDelay(userAgent);
    return {
      // undefined: the URL is not on this robots.txt's origin, which the caller never asks.
      allows: (url) => robots.isAllowed(url, userAgent) !== false,
      crawlDelaySeconds: typeof crawlDelay === 'number' && crawlDelay > 0 ? crawlDelay : undefined,
    };
  }
  if (outcome.kind === 'failed' && outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500) {
    return { allows: () => true, crawlDelaySeconds: undefined };
  }
  if (outcome.kind === 'failed' && (outcome.reason === 'http-status' || outcome.reason === 'network' || outcome.reason === 'timeout')) {
    const unreachable = `${robotsUrl} could not be read (${outcome.message}); its site is not crawled until it answers`;
    return { allows: () => false, crawlDelaySeconds: undefined, unreachable };
  }
  if (outcome.kind === 'not-modified' || outcome.kind === 'robots-disallowed') return { allows: () => true, crawlDelaySeconds: undefined };
  return outcome;
}
