/**
 * The polite, safe GET of `newsbridge fetch`: robots.txt first (once per origin), one request at a time
 * per host with a minimum delay, retries with backoff, redirects followed by hand with every hop
 * re-checked, and the caps of `FetchPolicy`. Every fetch answers a `FetchOutcome`; nothing is thrown
 * except the caller's own abort.
 */
import pRetry from 'p-retry';
import type { Agent } from 'undici';
import { type AddressPolicy, parseRanges } from './address-guard.js';
import { contentType, createAgent, type ExchangeContext, exchange, type HopResult } from './exchange.js';
import { HostGate } from './host-gate.js';
import { type RobotsRules, robotsRules } from './robots.js';
import type { Conditional, FetchOutcome, FetchPolicy, PoliteFetcherOptions } from './types.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** The first retry waits about this long, each later one twice as long, times a random 1–2. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;
/** A Retry-After longer than this is not waited for: the fetch fails and the next night tries again. */
const RETRY_AFTER_CAP_MS = 120_000;
const REDIRECT_LIMIT = 5;

class RetryableHop extends Error {
  constructor(readonly hop: HopResult) {
    super(hop.kind === 'failed' ? hop.message : `status ${hop.status}`);
  }
}

export class PoliteFetcher {
  private readonly gate = new HostGate();
  private readonly robots = new Map<string, Promise<RobotsRules | FetchOutcome>>();
  private readonly agent: Agent;
  private readonly context: ExchangeContext;

  constructor(
    private readonly policy: FetchPolicy,
    private readonly options: PoliteFetcherOptions = {},
  ) {
    const addresses: AddressPolicy = {
      allowPrivateAddresses: policy.allowPrivateAddresses,
      trustedRanges: parseRanges(options.trustedRanges),
    };
    this.agent = createAgent(policy, addresses, options.lookup);
    this.context = { policy, addresses, agent: this.agent };
  }

  /** GETs `url` politely; rejects only when `signal` aborts (with its reason). */
  async fetch(url: string, conditional?: Conditional, signal?: AbortSignal): Promise<FetchOutcome> {
    return this.follow(url, conditional, signal, true);
  }

  /** Closes the connections kept alive. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async follow(
    url: string,
    conditional: Conditional | undefined,
    signal: AbortSignal | undefined,
    obeyRobots: boolean,
  ): Promise<FetchOutcome> {
    const visited = new Set<string>();
    let current = url;
    const maxRedirects = Math.min(this.policy.maxRedirects, REDIRECT_LIMIT);
    for (let redirects = 0; ; redirects++) {
      const target = checkUrl(url, current);
      if (!(target instanceof URL)) return target;
      visited.add(target.href);
      if (obeyRobots) {
        const refusal = await this.robotsRefusal(url, target, signal);
        if (refusal) return refusal;
      }
      const hop = await this.withRetries(target, conditional, signal);
      if (hop.kind === 'failed') return { kind: 'failed', url, reason: hop.reason, message: hop.message, status: hop.status };
      const location = hop.headers.location;
      if (REDIRECT_STATUSES.has(hop.status) && location) {
        const next = URL.parse(location, target);
        if (!next)
          return { kind: 'failed', url, reason: 'bad-url', message: `${target.href} redirects to "${location}", which is not a URL` };
        next.hash = '';
        if (visited.has(next.href)) {
          return {
            kind: 'failed',
            url,
            reason: 'redirect-loop',
            message: `${target.href} redirects back to ${next.href}, already visited from ${url}`,
          };
        }
        if (redirects + 1 > maxRedirects) {
          return {
            kind: 'failed',
            url,
            reason: 'too-many-redirects',
            message: `${url} redirects more than ${maxRedirects} times (fetch.maxRedirects)`,
          };
        }
        current = next.href;
        continue;
      }
      return this.outcome(url, target, hop);
    }
  }

  private outcome(url: string, target: URL, hop: Extract<HopResult, { kind: 'response' }>): FetchOutcome {
    if (hop.status === 304) return { kind: 'not-modified', url, finalUrl: target.href };
    if (hop.status < 200 || hop.status >= 300) {
      return { kind: 'failed', url, reason: 'http-status', status: hop.status, message: `${target.href} answered HTTP ${hop.status}` };
    }
    return {
      kind: 'fetched',
      url,
      finalUrl: target.href,
      status: hop.status,
      headers: hop.headers,
      body: hop.body,
      ...contentType(hop.headers['content-type']),
      etag: hop.headers.etag ?? null,
      lastModified: hop.headers['last-modified'] ?? null,
    };
  }

  /** One hop through the host's gate, retried on 429, 5xx and network failures. */
  private async withRetries(target: URL, conditional: Conditional | undefined, signal: AbortSignal | undefined): Promise<HopResult> {
    const host = target.host;
    try {
      return await pRetry(
        async () => {
          const hop = await this.gate.run(
            host,
            () => this.delayMs(target),
            () => exchange(target, this.context, conditional, signal),
            signal,
          );
          if (retryable(hop)) throw new RetryableHop(hop);
          return hop;
        },
        {
          retries: Math.max(0, this.policy.retries),
          minTimeout: RETRY_BASE_MS,
          maxTimeout: RETRY_MAX_MS,
          randomize: true,
          signal,
          onFailedAttempt: ({ error, retriesLeft }) => {
            if (!(error instanceof RetryableHop) || retriesLeft === 0) return;
            const wait = retryAfterMs(error.hop);
            if (wait === undefined) return;
            // Thrown from here, p-retry stops and rejects with this error as it is.
            if (wait > RETRY_AFTER_CAP_MS) throw new RetryableHop(waitTooLong(target, error.hop, wait));
            // The whole host waits, not just this URL: Retry-After is about the server's load.
            this.gate.holdOff(host, Date.now() + wait);
          },
        },
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof RetryableHop) return asFailure(target, error.hop, this.policy.retries);
      throw error;
    }
  }

  private delayMs(target: URL): number {
    const perHost = this.options.perHost?.(target.host).minDelaySeconds ?? 0;
    return Math.max(this.policy.minDelaySeconds, perHost, this.crawlDelay.get(target.origin) ?? 0) * 1000;
  }

  private readonly crawlDelay = new Map<string, number>();

  private async robotsRefusal(url: string, target: URL, signal: AbortSignal | undefined): Promise<FetchOutcome | undefined> {
    let rules = this.robots.get(target.origin);
    if (!rules) {
      const robotsUrl = new URL('/robots.txt', target.origin).href;
      rules = this.follow(robotsUrl, undefined, signal, false).then((outcome) => {
        const verdict = robotsRules(robotsUrl, outcome, this.policy.userAgent);
        if ('allows' in verdict && verdict.crawlDelaySeconds !== undefined) {
          this.crawlDelay.set(target.origin, verdict.crawlDelaySeconds);
          // robots.txt's own request ended before its Crawl-delay was known: the first page waits it too.
          this.gate.holdOff(target.host, Date.now() + this.delayMs(target));
        }
        return verdict;
      });
      this.robots.set(target.origin, rules);
    }
    const verdict = await rules;
    if (!('allows' in verdict)) {
      if (verdict.kind !== 'failed') return undefined;
      // A refused address is the page's own failure; anything else is robots.txt's, and says so.
      if (verdict.reason === 'private-address') return { ...verdict, url };
      return { ...verdict, url, message: `robots.txt of ${target.origin}: ${verdict.message}` };
    }
    if (verdict.allows(target.href)) return undefined;
    return {
      kind: 'robots-disallowed',
      url,
      message: verdict.unreachable ?? `${target.origin}/robots.txt disallows ${target.pathname} for ${this.policy.userAgent}`,
    };
  }
}

function checkUrl(url: string, current: string): URL | FetchOutcome {
  const target = URL.parse(current);
  if (!target) return { kind: 'failed', url, reason: 'bad-url', message: `"${current}" is not a URL` };
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return {
      kind: 'failed',
      url,
      reason: 'unsupported-scheme',
      message: `${current}: only http and https URLs are fetched, not ${target.protocol}`,
    };
  }
  target.hash = '';
  return target;
}

function retryable(hop: HopResult): boolean {
  if (hop.kind === 'failed') return hop.retryable;
  return hop.status === 429 || hop.status >= 500;
}

function asFailure(target: URL, hop: HopResult, retries: number): HopResult {
  if (hop.kind === 'failed') return hop;
  const tries = retries > 0 ? ` (after ${retries} ${retries === 1 ? 'retry' : 'retries'})` : '';
  return {
    kind: 'failed',
    reason: 'http-status',
    status: hop.status,
    message: `${target.href} answered HTTP ${hop.status}${tries}`,
    retryable: false,
  };
}

function waitTooLong(target: URL, hop: HopResult, waitMs: number): HopResult {
  const status = hop.kind === 'response' ? hop.status : undefined;
  const message = `${target.href} answered HTTP ${status} and asks to be retried in ${Math.ceil(waitMs / 1000)} s, longer than newsbridge waits (${RETRY_AFTER_CAP_MS / 1000} s); the next fetch tries again`;
  return { kind: 'failed', reason: 'http-status', status, message, retryable: false };
}

/** `Retry-After` of a 429 or 503 in ms from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(hop: HopResult): number | undefined {
  if (hop.kind !== 'response' || (hop.status !== 429 && hop.status !== 503)) return undefined;
  const value = hop.headers['retry-after']?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
