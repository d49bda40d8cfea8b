/** The HTTP layer of `newsbridge fetch`: one polite, capped, SSRF-checked GET at a time per host. */
export { PoliteFetcher } from './polite-fetcher.js';
export type { Conditional, FetchFailureReason, FetchOutcome, FetchPolicy, LookupFunction, PoliteFetcherOptions } from './types.js';
