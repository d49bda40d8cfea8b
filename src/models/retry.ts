/** Retries of the store's requests: exponential backoff with jitter (p-retry), honouring `Retry-After`, within a deadline. */
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { ModelDownloadError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts per request (each file, and the hub's file list); each retry of a file resumes from what is already on disk. */
  attempts?: number;
  /**
   * Wait before the first retry; each later one waits twice as long as the one before, times a
   * random 1–2 so that clients failed by the same outage do not come back together. Default 1 s.
   */
  retryDelayMs?: number;
  /** Stops the pull (SIGINT/SIGTERM): the file being downloaded keeps its `.part` to resume from. */
  signal?: AbortSignal;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 60_000;

/**
 * A failure worth trying again: a 5xx or 429, a network failure, a download dropped as stalled or
 * cut short, a damaged file. Any other 4xx is the request's fault, and a stop or a passed deadline
 * is final.
 */
function retryable(error: unknown): boolean {
  if (!(error instanceof ModelDownloadError)) return false;
  if (error.status !== undefined) return error.status >= 500 || error.status === 429;
  return error.cutoff !== 'deadline' && error.cutoff !== 'stopped';
}

/**
 * Runs one request with `policy.attempts` tries, backing off exponentially with jitter between
 * them (p-retry), and waiting at least what a 429's or 503's `Retry-After` asks. Gives up at
 * `deadline` (epoch ms): a server that asks for a wait past it fails the request at once.
 */
export async function withRetries<T>(url: string, policy: RetryPolicy, deadline: number, attempt: () => Promise<T>): Promise<T> {
  try {
    return await pRetry(
      async () => {
        try {
          return await attempt();
        } catch (error) {
          throw retryable(error) ? error : new AbortError(error as Error);
        }
      },
      {
        retries: Math.max(0, (policy.attempts ?? DEFAULT_ATTEMPTS) - 1),
        minTimeout: policy.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
        maxTimeout: MAX_RETRY_DELAY_MS,
        randomize: true,
        maxRetryTime: Math.max(0, deadline - Date.now()),
        signal: policy.signal,
        onFailedAttempt: async ({ error, retriesLeft }) => {
          const wait = error instanceof ModelDownloadError ? error.retryAfterMs : undefined;
          if (wait === undefined || retriesLeft === 0) return;
          if (Date.now() + wait > deadline) {
            throw new ModelDownloadError(
              url,
              `${error.message}; it asks to be retried in ${Math.ceil(wait / 1000)} s, past the deadline (translation.downloadFileSeconds)`,
              (error as ModelDownloadError).status,
            );
          }
          // p-retry's backoff follows this wait: Retry-After is a lower bound, the backoff still spreads clients out.
          await sleep(wait, undefined, { signal: policy.signal });
        },
      },
    );
  } catch (error) {
    // A stop that lands between attempts rejects with the signal's reason rather than a download error.
    if (policy.signal?.aborted && !(error instanceof ModelDownloadError)) {
      throw new ModelDownloadError(url, `download of ${url} was stopped; run the pull again to resume`, undefined, 'stopped');
    }
    throw error;
  }
}

/**
 * `Retry-After` of a 429 or 503, in ms from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable, and for other statuses.
 */
export function retryAfterMs(response: Response): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
