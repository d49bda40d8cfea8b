import { describe, expect, it } from 'vitest';
import { feedsOf, planNight } from '../../src/fetch/plan.js';

const defaults = { minDelaySeconds: 1, maxItemsPerFeed: 200 };
const item = (url: string, title = url) => ({ url, title, published: '2026-12-07T00:00:00.000Z' });

describe('feedsOf', () => {
  it("fills each feed's site, delay and item cap from the defaults", () => {
    expect(
      feedsOf(['http://a.test/rss', { url: 'http://b.test/s.xml', site: 'B', minDelaySeconds: 5, maxItems: 3, language: 'ar' }], defaults),
    ).toEqual([
      { url: 'http://a.test/rss', site: 'a.test', language: null, minDelaySeconds: 1, maxItems: 200 },
      { url: 'http://b.test/s.xml', site: 'B', language: 'ar', minDelaySeconds: 5, maxItems: 3 },
    ]);
  });
});

describe('planNight', () => {
  const [a, b] = feedsOf(['http://a.test/rss', { url: 'http://b.test/rss', maxItems: 2 }], defaults);

  it('plans one page per canonical URL, attributed to the first feed that lists it', () => {
    const plan = planNight(
      [
        { feed: a!, items: [item('http://n.test/1?utm_source=a'), item('http://n.test/2')] },
        { feed: b!, items: [item('http://n.test/1?fbclid=x#c'), item('http://n.test/3')] },
      ],
      100,
    );
    expect(plan.pages.map((page) => [page.url, page.feed.url])).toEqual([
      ['http://n.test/1', 'http://a.test/rss'],
      ['http://n.test/2', 'http://a.test/rss'],
      ['http://n.test/3', 'http://b.test/rss'],
    ]);
    expect(plan.overCap).toEqual([]);
  });

  it("takes at most a feed's maxItems of its own items, and fetch.maxArticles over all; the rest is over the cap", () => {
    const plan = planNight(
      [
        { feed: b!, items: [item('http://n.test/1'), item('http://n.test/2'), item('http://n.test/3')] },
        { feed: a!, items: [item('http://n.test/4'), item('http://n.test/5')] },
      ],
      3,
    );
    expect(plan.pages.map((page) => page.url)).toEqual(['http://n.test/1', 'http://n.test/2', 'http://n.test/4']);
    expect(plan.overCap.map((page) => page.url)).toEqual(['http://n.test/5']);
  });
});
