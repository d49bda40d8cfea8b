import { describe, expect, it } from 'vitest';
import { type Visit, testPolicy } from './server.js';

import { fetcher, serve } from './open-resources.js';

/**
 * Timers round to whole milliseconds and the two clocks read here (the server's request start, the
 * server's response close) are read at slightly different points than the fetcher's own: a few ms of
 * slack on a lower bound, never an upper bound.
 */
const CLOCK_SLACK_MS = 5;

/** The gaps between one request's end and the next one's start, asserting that none overlapped. */
function gaps(visits: readonly Visit[]): number[] {
  const ordered = [...visits].sort((a, b) => a.started - b.started);
  return ordered.slice(1).map((visit, index) => {
    const previous = ordered[index]!;
    expect(previous.ended, `${previous.path} ended before ${visit.path} started`).toBeDefined();
    return visit.started - previous.ended!;
  });
}

const page = (_request: unknown, response: import('node:http').ServerResponse) => {
  // A little work per response, so overlapping requests would show.
  setTimeout(() => response.end('page'), 20);
};

describe('politeness', () => {
  it('sends one request at a time to a host, Crawl-delay apart, robots.txt included', async () => {
    const server = await serve(page, { robots: 'User-agent: newsbridge\nCrawl-delay: 0.5\nAllow: /\n' });
    const polite = fetcher(testPolicy({ minDelaySeconds: 0.1 }));
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => polite.fetch(`${server.origin}/news/${n}`)));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['fetched', 'fetched', 'fetched', 'fetched']);
    expect(server.visits).toHaveLength(5);
    expect(server.visits[0]?.path).toBe('/robots.txt');
    for (const gap of gaps(server.visits)) expect(gap).toBeGreaterThanOrEqual(500 - CLOCK_SLACK_MS);
  });

  it('keeps the minimum delay when robots.txt gives none, and takes a per-host delay when larger', async () => {
    const server = await serve(page);
    const polite = fetcher(testPolicy({ minDelaySeconds: 0.2 }), {
      perHost: (host) => (host === new URL(server.origin).host ? { minDelaySeconds: 0.4 } : {}),
    });
    await Promise.all([1, 2, 3].map((n) => polite.fetch(`${server.origin}/news/${n}`)));
    for (const gap of gaps(server.visits)) expect(gap).toBeGreaterThanOrEqual(400 - CLOCK_SLACK_MS);
  });

  it('does not hold one host back for another', async () => {
    const slow = await serve(page, { robots: 'User-agent: *\nCrawl-delay: 30\n' });
    const fast = await serve(page);
    const polite = fetcher(testPolicy());
    const stop = new AbortController();
    // The slow host's first page waits out its 30 s Crawl-delay after robots.txt; the other host is fetched meanwhile.
    const waiting = polite.fetch(`${slow.origin}/a`, undefined, stop.signal);
    await expect.poll(() => slow.visitsTo('/robots.txt').length).toBe(1);
    expect(await polite.fetch(`${fast.origin}/a`)).toMatchObject({ kind: 'fetched' });
    expect(slow.visitsTo('/a')).toHaveLength(0);
    stop.abort(new Error('night stopped'));
    await expect(waiting).rejects.toThrow('night stopped');
  });
});

describe('retries', () => {
  it('waits what a 429’s Retry-After asks, then fetches', async () => {
    const server = await serve((request, response) => {
      if (server.visitsTo(request.url ?? '').length === 1) {
        response.writeHead(429, { 'retry-after': '2' });
        response.end();
        return;
      }
      response.end('page');
    });
    const outcome = await fetcher(testPolicy({ retries: 2 })).fetch(`${server.origin}/busy`);
    expect(outcome).toMatchObject({ kind: 'fetched' });
    const visits = server.visitsTo('/busy');
    expect(visits).toHaveLength(2);
    expect(visits[1]!.started - visits[0]!.ended!).toBeGreaterThanOrEqual(2000 - CLOCK_SLACK_MS);
  });

  it('retries a 503 with backoff and gives up after the retries with the status', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(503);
      response.end();
    });
    const outcome = await fetcher(testPolicy({ retries: 2 })).fetch(`${server.origin}/down`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'http-status', status: 503 });
    const visits = server.visitsTo('/down');
    expect(visits).toHaveLength(3);
    // Backoff: the first retry waits at least the base (1 s), the second at least twice that.
    const [first, second] = gaps(visits);
    expect(first).toBeGreaterThanOrEqual(1000 - CLOCK_SLACK_MS);
    expect(second).toBeGreaterThanOrEqual(2000 - CLOCK_SLACK_MS);
  });

  it('does not wait for a Retry-After of an hour: fails at once, naming it', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(429, { 'retry-after': '3600' });
      response.end();
    });
    const outcome = await fetcher(testPolicy({ retries: 3 })).fetch(`${server.origin}/busy`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'http-status', status: 429 });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/3600 s/);
    expect(server.visitsTo('/busy')).toHaveLength(1);
  });

  it('does not retry a 404', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(404);
      response.end();
    });
    await fetcher(testPolicy({ retries: 3 })).fetch(`${server.origin}/gone`);
    expect(server.visitsTo('/gone')).toHaveLength(1);
  });

  it('stops a request in flight when the caller aborts, rejecting with its reason', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const stop = new AbortController();
    const pending = fetcher(testPolicy()).fetch(`${server.origin}/hangs`, undefined, stop.signal);
    await expect.poll(() => server.visitsTo('/hangs').length).toBe(1);
    stop.abort(new Error('night stopped'));
    await expect(pending).rejects.toThrow('night stopped');
  });
});
