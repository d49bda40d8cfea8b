/** The HTTP layer's contract: the policy a fetcher is built with and what one fetch answers (never thrown). */

export interface FetchPolicy {
  /** The full User-Agent, contact URL included (the caller builds it); its product token picks the robots.txt group. */
  userAgent: string;
  /**
   * False: refuse every address that is not globally routable (loopback, private, link-local, cloud metadata,
   * unspecified, multicast, reserved, CGNAT; v4 and v6, v4-mapped v6 included), checked on the address connected to.
   */
  allowPrivateAddresses: boolean;
  /** Body cap in bytes, on the decoded (gzip/br/deflate-expanded) size; the fetch aborts as soon as it is passed. */
  maxBytes: number;
  /** Time allowed from the start of a request (DNS and connect included) to the response headers. */
  firstByteSeconds: number;
  /** Time allowed for the whole request, body included (a server trickling bytes hits it). */
  requestSeconds: number;
  /** Redirects followed per fetch (at most 5); a redirect back to a URL already visited is a loop. */
  maxRedirects: number;
  /** Minimum time between the end of one request to a host and the start of the next; robots.txt `Crawl-delay` raises it. */
  minDelaySeconds: number;
  /** Retries after a 429, a 5xx or a network failure, with exponential backoff and jitter, honouring `Retry-After`. */
  retries: number;
}

/** Validators from the last fetch of the URL, sent as If-None-Match / If-Modified-Since. */
export interface Conditional {
  etag?: string | null;
  lastModified?: string | null;
}

export type FetchFailureReason =
  | 'private-address'
  | 'too-large'
  | 'timeout'
  | 'too-many-redirects'
  | 'redirect-loop'
  | 'http-status'
  | 'network'
  | 'bad-url'
  | 'unsupported-scheme';

export type FetchOutcome =
  | {
      kind: 'fetched';
      url: string;
      /** The URL after redirects. */
      finalUrl: string;
      status: number;
      /** Response headers, lower-case names; repeated headers joined with ", ". */
      headers: Record<string, string>;
      /** The decoded body (Content-Encoding removed), bytes as sent otherwise. */
      body: Buffer;
      /** The charset parameter of Content-Type, null when it named none. */
      charset: string | null;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
    }
  | { kind: 'not-modified'; url: string; finalUrl: string }
  | { kind: 'robots-disallowed'; url: string; message: string }
  | { kind: 'failed'; url: string; reason: FetchFailureReason; message: string; status?: number };

export interface PoliteFetcherOptions {
  /** Per-host override of the policy's minimum delay (the larger of the two, and of Crawl-delay, applies). */
  perHost?: (host: string) => Partial<Pick<FetchPolicy, 'minDelaySeconds'>>;
  /**
   * Address ranges (CIDR, e.g. "10.1.0.0/16") allowed although private: an intranet feed host without opening
   * every private address. Checked like the rest, on the address connected to.
   */
  trustedRanges?: readonly string[];
  /** Name resolution, `dns.lookup`'s signature (default `dns.lookup`); every address it answers is checked before connecting. */
  lookup?: LookupFunction;
}

export type LookupFunction = (
  hostname: string,
  options: { all: true; family?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]) => void,
) => void;
