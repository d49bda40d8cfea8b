/**
 * A news site on 127.0.0.1 for the fetch tests: 50 article pages (45 saved pages of the AEB benchmark
 * from ../shared and the five sample articles as pages), RSS and Atom feeds over them, and the broken
 * feeds sites send. Pages answer conditional GETs by ETag; every request is recorded.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sharedPath } from '../../bench/shared-data.js';
import { repoRoot } from '../../tools/repo-root.js';
import iconv from 'iconv-lite';
import { atom, billionLaughs, jsonFeed, newsSitemap, rdf, rss, sitemap, sitemapIndex } from './feeds.js';

export interface Request {
  path: string;
  status: number;
  /** When the server answered (Date.now()). */
  at: number;
  userAgent: string | undefined;
}

export interface NewsSite {
  origin: string;
  /** Path (`/news/7.html`) → the page's bytes as served. */
  pages: Map<string, Buffer>;
  requests: Request[];
  /** 200 answers to `path`. */
  served(path: string): number;
  /** Replaces a page's bytes (its ETag changes with them). */
  edit(path: string, bytes: Buffer): void;
  /** From now on `path` sends half its body, then hangs (until `release`). */
  stall(path: string): void;
  release(): void;
  close(): Promise<void>;
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A sample article (title line, then paragraphs) as the plain page a site would serve. */
function samplePage(text: string, lang: string): Buffer {
  const [title = '', ...paragraphs] = text.split('\n').filter((line) => line.trim() !== '');
  const body = paragraphs.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n');
  return Buffer.from(
    `<!doctype html>\n<html lang="${lang}"><head><title>${escapeHtml(title)}</title></head>\n<body><article><h1>${escapeHtml(title)}</h1>\n${body}\n</article></body></html>\n`,
  );
}

export function sitePages(): Buffer[] {
  const aebDir = sharedPath('data/html/aeb-dev');
  const aeb = readdirSync(aebDir)
    .filter((name) => name.endsWith('.html.gz'))
    .sort()
    .slice(0, 45)
    .map((name) => gunzipSync(readFileSync(path.join(aebDir, name))));
  const samples = readdirSync(path.join(repoRoot, 'input'))
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => {
      const text = readFileSync(path.join(repoRoot, 'input', name), 'utf8');
      return samplePage(text, /[\u0600-\u06FF]/.test(text) ? 'ar' : 'vi');
    });
  return [...aeb, ...samples];
}

export const pagePath = (index: number) => `/news/${index}.html`;

/** The Last-Modified of what is served with `?v=date` (and /dated.xml): it never changes. */
const LAST_MODIFIED = 'Mon, 07 Dec 2026 06:00:00 GMT';

/** An Arabic page (its sentence five times, long enough to be an article) in windows-1256 whose <meta> wrongly says windows-1252 (a CMS template's default); served as windows-1256. */
export const LEGACY_TEXT = 'أعلنت وزارة الزراعة اليوم عن خطة جديدة لدعم المزارعين في المناطق الريفية خلال الموسم المقبل.';
const legacyPage = iconv.encode(
  `<!doctype html>\n<html lang="ar" dir="rtl"><head><meta charset="windows-1252"><title>خطة الزراعة</title></head>\n<body><article><h1>خطة الزراعة</h1>\n${`<p>${LEGACY_TEXT}</p>\n`.repeat(5)}</article></body></html>\n`,
  'windows-1256',
);

export async function startNewsSite(robots = 'User-agent: *\nDisallow: /private/\n'): Promise<NewsSite> {
  const pages = new Map(sitePages().map((bytes, index) => [pagePath(index), bytes]));
  const requests: Request[] = [];
  const stalled = new Set<string>();
  const hanging: http.ServerResponse[] = [];
  const date = (index: number) => new Date(Date.UTC(2026, 11, 7, 6, index)).toISOString();
  const entries = (origin: string, tracking: string) =>
    [...pages.keys()].map((page, index) => ({ url: `${origin}${page}?${tracking}#top`, title: `Story ${index}`, date: date(index) }));
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site');
    const origin = `http://${request.headers.host}`;
    const answer = (status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) => {
      requests.push({ path: url.pathname, status, at: Date.now(), userAgent: request.headers['user-agent'] });
      response.writeHead(status, headers);
      response.end(body);
    };
    const all = entries(origin, 'utm_campaign=home');
    const feeds: Record<string, () => string> = {
      '/rdf.xml': () => rdf(all.slice(0, 5)),
      '/feed.json': () => jsonFeed(all.slice(5, 10)),
      '/sitemap-index.xml': () => sitemapIndex(['/sitemap-1.xml', `${origin}/news-sitemap.xml`]),
      '/sitemap-1.xml': () => sitemap(all.slice(10, 15)),
      '/news-sitemap.xml': () => newsSitemap(all.slice(15, 20)),
      // Two sample articles, one Arabic and one Vietnamese: few enough for a run on the tiny models.
      '/small.xml': () => rss([all[45]!, all[49]!]),
      // Validators other than an ETag: Last-Modified alone (`?v=date`), or none at all (`?v=none`).
      '/dated.xml': () => rss([0, 1, 2].map((index) => ({ ...all[index]!, url: `${origin}${pagePath(index)}?v=date` }))),
      '/stubborn.xml': () => rss([3, 4, 5].map((index) => ({ ...all[index]!, url: `${origin}${pagePath(index)}?v=none` }))),
      '/legacy.xml': () => rss([{ url: `${origin}/legacy.html`, title: 'legacy', date: date(0) }]),
      '/robots.txt': () => robots,
      '/feed.xml': () => rss(entries(origin, 'utm_source=rss&utm_medium=feed')),
      '/atom.xml': () => atom(entries(origin, 'fbclid=abc123').slice(0, 10)),
      '/broken.xml': () => rss(entries(origin, 'x=1')).replace('</title>', ''),
      '/bomb.xml': billionLaughs,
      '/private.xml': () =>
        rss([
          { url: `${origin}/private/secret.html`, title: 'secret', date: date(0) },
          { url: `${origin}/missing.html`, title: 'gone', date: date(1) },
          { url: `${origin}/report.pdf`, title: 'a PDF', date: date(2) },
        ]),
    };
    const validators = url.pathname === '/dated.xml' ? 'date' : url.pathname === '/stubborn.xml' ? 'none' : url.searchParams.get('v');
    if (validators === 'date' || validators === 'none') {
      const body = feeds[url.pathname]?.() ?? pages.get(url.pathname);
      if (body === undefined) return answer(404, 'not found', { 'content-type': 'text/plain' });
      const type = { 'content-type': feeds[url.pathname] ? 'application/xml; charset=utf-8' : 'text/html; charset=utf-8' };
      if (validators === 'none') return answer(200, body, type);
      if (request.headers['if-modified-since'] === LAST_MODIFIED) return answer(304, '');
      return answer(200, body, { ...type, 'last-modified': LAST_MODIFIED });
    }
    const feed = feeds[url.pathname];
    if (feed) {
      const body = feed();
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      if (request.headers['if-none-match'] === etag) return answer(304, '');
      return answer(200, body, { 'content-type': 'application/xml; charset=utf-8', etag });
    }
    if (url.pathname === '/report.pdf') return answer(200, '%PDF-1.7\n', { 'content-type': 'application/pdf' });
    if (url.pathname === '/legacy.html') return answer(200, legacyPage, { 'content-type': 'text/html; charset=windows-1256' });
    const page = pages.get(url.pathname);
    if (!page) return answer(404, 'not found', { 'content-type': 'text/plain' });
    const etag = `"${createHash('sha256').update(page).digest('hex').slice(0, 16)}"`;
    if (request.headers['if-none-match'] === etag) return answer(304, '');
    if (stalled.has(url.pathname)) {
      requests.push({ path: url.pathname, status: 200, at: Date.now(), userAgent: request.headers['user-agent'] });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length, etag });
      response.write(page.subarray(0, page.length >> 1));
      hanging.push(response);
      return;
    }
    answer(200, page, { 'content-type': 'text/html; charset=utf-8', etag });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    pages,
    requests,
    served: (path) => requests.filter((request) => request.path === path && request.status === 200).length,
    edit: (path, bytes) => pages.set(path, bytes),
    stall: (path) => stalled.add(path),
    release: () => {
      stalled.clear();
      for (const response of hanging.splice(0)) response.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
