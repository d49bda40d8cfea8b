/**
 * What the fetch loop needs of the HTTP layer (src/fetch/http/, `PoliteFetcher`): one GET, polite and
 * safe (robots.txt, one request at a time per host with a delay, retries, caps, SSRF checks, redirects),
 * answered with what happened rather than thrown. The loop depends on this shape only.
 */

/** Validators from the last fetch, sent as If-None-Match / If-Modified-Since. */
export interface Validators {
  etag?: string | null;
  lastModified?: string | null;
}

export type FetchOutcome =
  | {
      kind: 'fetched';
      /** The URL after redirects. */
      finalUrl: string;
      status: number;
      body: Buffer;
      /** The charset of the response's Content-Type, null when it named none. */
      charset: string | null;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
    }
  | { kind: 'not-modified'; finalUrl: string }
  | { kind: 'robots-disallowed'; message: string }
  | { kind: 'failed'; reason: string; message: string };

export interface PageFetcher {
  fetch(url: string, validators?: Validators): Promise<FetchOutcome>;
}
