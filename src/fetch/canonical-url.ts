import { createHash } from 'node:crypto';

/**
 * One article reached by several URLs (two feeds, a campaign link, an anchor) is one URL here, so it
 * is fetched and saved once. Only what never changes the page is dropped: the fragment, the tracking
 * parameters of analytics and ad platforms, the default port and a trailing `?`. Parameters that may
 * select content (`id`, `p`, `page`) are kept in their order: reordering them is safe for most
 * servers but not all.
 */

/** `utm_*` of Google Analytics and Matomo's `mtm_*`/`pk_*`; the rest one name each. */
const TRACKING_PREFIXES = ['utm_', 'mtm_', 'pk_'];
const TRACKING_NAMES = new Set([
  'fbclid',
  'gclid',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'twclid',
  'ttclid',
  'igshid',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
  '_hsenc',
  '_hsmi',
  'ocid',
  'cmpid',
  'ref_src',
]);

function isTracking(name: string): boolean {
  const lower = name.toLowerCase();
  return TRACKING_NAMES.has(lower) || TRACKING_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/**
 * The canonical form of an http(s) URL (WHATWG parsing lowercases the host and drops a default port).
 * The query is filtered as the raw `name=value` pairs, so what is kept keeps the server's spelling.
 */
export function canonicalUrl(url: string | URL): string {
  const parsed = new URL(url);
  parsed.hash = '';
  const kept = parsed.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !isTracking(decodeSafely(pair.split('=')[0]!)));
  parsed.search = kept.length === 0 ? '' : `?${kept.join('&')}`;
  return parsed.href;
}

/** Characters kept in a file name from a URL's path; everything else becomes `-`. */
const UNSAFE = /[^A-Za-z0-9._-]+/g;

/**
 * The page's file under `fetch.dir`, from its canonical URL alone so it stays the same night after
 * night: `<host>/<last path segment, cut>-<12 hex of sha256>.html`. The hash tells apart URLs that
 * look alike once cut; the readable part is for people looking at the folder. A host's port is kept
 * (`127.0.0.1_8080`), with `_` for the `:` some file systems refuse.
 */
export function pageFileName(canonical: string): string {
  const url = new URL(canonical);
  const host = url.host.replace(':', '_');
  const segment = decodeSafely(url.pathname.split('/').filter(Boolean).at(-1) ?? 'index')
    .replace(/\.(?:s?html?|php|aspx?|jsp)$/i, '')
    .replace(UNSAFE, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  return `${host}/${segment === '' ? 'index' : segment}-${hash}.html`;
}

function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
