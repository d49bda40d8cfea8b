import { describe, expect, it } from 'vitest';
import { testPolicy } from './server.js';

import { fetcher, serve } from './open-resources.js';

describe('PoliteFetcher', () => {
  it('fetches a page with its charset and validators, sending the User-Agent', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, {
        'content-type': 'text/html; charset=windows-1256',
        etag: '"v1"',
        'last-modified': 'Sun, 06 Dec 2026 10:00:00 GMT',
      });
      response.end(Buffer.from([0xc7, 0xe1]));
    });
    const outcome = await fetcher(testPolicy()).fetch(`${server.origin}/article#comments`);
    expect(outcome).toMatchObject({
      kind: 'fetched',
      finalUrl: `${server.origin}/article`,
      status: 200,
      charset: 'windows-1256',
      contentType: 'text/html',
      etag: '"v1"',
      lastModified: 'Sun, 06 Dec 2026 10:00:00 GMT',
    });
    expect(outcome.kind === 'fetched' && [...outcome.body]).toEqual([0xc7, 0xe1]);
    expect(server.visitsTo('/article')[0]?.headers['user-agent']).toBe('newsbridge/0.1.0 (+https://example.test/contact)');
  });

  it('sends If-None-Match and If-Modified-Since and answers not-modified on a 304', async () => {
    const server = await serve((request, response) => {
      response.writeHead(request.headers['if-none-match'] === '"v1"' ? 304 : 200, { etag: '"v1"' });
      response.end(request.headers['if-none-match'] === '"v1"' ? undefined : 'page');
    });
    const outcome = await fetcher(testPolicy()).fetch(`${server.origin}/a`, {
      etag: '"v1"',
      lastModified: 'Sun, 06 Dec 2026 10:00:00 GMT',
    });
    expect(outcome).toEqual({ kind: 'not-modified', url: `${server.origin}/a`, finalUrl: `${server.origin}/a` });
    expect(server.visitsTo('/a')[0]?.headers['if-modified-since']).toBe('Sun, 06 Dec 2026 10:00:00 GMT');
  });

  it('reports an error status with the status', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(404);
      response.end();
    });
    expect(await fetcher(testPolicy()).fetch(`${server.origin}/gone`)).toMatchObject({
      kind: 'failed',
      reason: 'http-status',
      status: 404,
    });
  });

  it('refuses other schemes and unreadable URLs without a request', async () => {
    const polite = fetcher(testPolicy());
    expect(await polite.fetch('ftp://example.test/feed.xml')).toMatchObject({ kind: 'failed', reason: 'unsupported-scheme' });
    expect(await polite.fetch('file:///etc/passwd')).toMatchObject({ kind: 'failed', reason: 'unsupported-scheme' });
    expect(await polite.fetch('not a url')).toMatchObject({ kind: 'failed', reason: 'bad-url' });
  });
});

describe('robots.txt', () => {
  const page = (_request: unknown, response: import('node:http').ServerResponse) => response.end('page');

  it('is read once per site and its Disallow for our agent is obeyed, Allow overriding it', async () => {
    const robots = 'User-agent: *\nDisallow: /\n\nUser-agent: newsbridge\nDisallow: /private/\nAllow: /private/open\n';
    const server = await serve(page, { robots });
    const polite = fetcher(testPolicy());
    expect(await polite.fetch(`${server.origin}/news/1`)).toMatchObject({ kind: 'fetched' });
    expect(await polite.fetch(`${server.origin}/private/x`)).toMatchObject({
      kind: 'robots-disallowed',
      url: `${server.origin}/private/x`,
    });
    expect(await polite.fetch(`${server.origin}/private/open`)).toMatchObject({ kind: 'fetched' });
    expect(server.visitsTo('/robots.txt')).toHaveLength(1);
    expect(server.visitsTo('/private/x')).toHaveLength(0);
  });

  it('falls to the * group for another agent', async () => {
    const server = await serve(page, { robots: 'User-agent: *\nDisallow: /\n\nUser-agent: otherbot\nAllow: /\n' });
    expect(await fetcher(testPolicy()).fetch(`${server.origin}/news/1`)).toMatchObject({ kind: 'robots-disallowed' });
  });

  it('a missing robots.txt (404) allows everything', async () => {
    const server = await serve(page);
    expect(await fetcher(testPolicy()).fetch(`${server.origin}/news/1`)).toMatchObject({ kind: 'fetched' });
  });

  it('a robots.txt that answers 503 keeps the whole site from being crawled', async () => {
    const failing = await serve(page, { robots: 503 });
    const outcome = await fetcher(testPolicy()).fetch(`${failing.origin}/news/1`);
    expect(outcome).toMatchObject({ kind: 'robots-disallowed' });
    expect(outcome.kind === 'robots-disallowed' && outcome.message).toMatch(/robots\.txt could not be read/);
    expect(failing.visitsTo('/news/1')).toHaveLength(0);
  });

  it('a redirect to another site is checked against that site’s robots.txt', async () => {
    const closed = await serve(page, { robots: 'User-agent: *\nDisallow: /\n' });
    const server = await serve((_request, response) => {
      response.writeHead(301, { location: `${closed.origin}/moved` });
      response.end();
    });
    expect(await fetcher(testPolicy()).fetch(`${server.origin}/old`)).toMatchObject({ kind: 'robots-disallowed' });
    expect(closed.visitsTo('/moved')).toHaveLength(0);
  });
});

describe('redirects', () => {
  it('follows relative and absolute redirects, up to maxRedirects', async () => {
    const server = await serve((request, response) => {
      const step = Number(request.url?.slice(1));
      if (step < 5) {
        response.writeHead(step % 2 ? 302 : 301, { location: `/${step + 1}` });
        response.end();
        return;
      }
      response.end('arrived');
    });
    const outcome = await fetcher(testPolicy({ maxRedirects: 5 })).fetch(`${server.origin}/0`);
    expect(outcome).toMatchObject({ kind: 'fetched', url: `${server.origin}/0`, finalUrl: `${server.origin}/5` });
    expect(await fetcher(testPolicy({ maxRedirects: 4 })).fetch(`${server.origin}/0`)).toMatchObject({
      kind: 'failed',
      reason: 'too-many-redirects',
    });
  });

  it('never follows more than 5, whatever the policy says', async () => {
    const server = await serve((request, response) => {
      response.writeHead(307, { location: `/${Number(request.url?.slice(1)) + 1}` });
      response.end();
    });
    expect(await fetcher(testPolicy({ maxRedirects: 50 })).fetch(`${server.origin}/0`)).toMatchObject({
      kind: 'failed',
      reason: 'too-many-redirects',
    });
    expect(server.visits.filter((visit) => visit.path !== '/robots.txt')).toHaveLength(6);
  });

  it('reports a loop as soon as a URL comes round again', async () => {
    const server = await serve((request, response) => {
      response.writeHead(302, { location: request.url === '/a' ? '/b' : '/a#again' });
      response.end();
    });
    const outcome = await fetcher(testPolicy()).fetch(`${server.origin}/a`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'redirect-loop' });
    expect(server.visitsTo('/a')).toHaveLength(1);
  });

  it('refuses a redirect to another scheme', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(302, { location: 'file:///etc/passwd' });
      response.end();
    });
    expect(await fetcher(testPolicy()).fetch(`${server.origin}/a`)).toMatchObject({ kind: 'failed', reason: 'unsupported-scheme' });
  });
});
