import { HttpError } from './errors.js';

const WINDOW_MS = 60_000;

/**
 * Characters of `q` per client (API key, else address) per minute, in fixed one-minute windows.
 * @fastify/rate-limit counts requests only, with no weight per request, so characters are counted
 * here. The counts are dropped when the window rolls over, so memory holds one minute of clients.
 */
export class CharBudget {
  private window = 0;
  private spent = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  /** Spends `chars` of `client`'s minute, or throws the 429 (with the seconds to the next window) when it is used up. */
  spend(client: string, chars: number, now = Date.now()): void {
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.window = window;
      this.spent = new Map();
    }
    const spent = this.spent.get(client) ?? 0;
    if (spent > 0 && spent + chars > this.perMinute) {
      const retryAfter = Math.ceil(((window + 1) * WINDOW_MS - now) / 1000);
      throw new HttpError(
        429,
        `Slowdown: ${this.perMinute} characters per minute (serve.charsPerMinute) used up; try again in ${retryAfter} s`,
        retryAfter,
      );
    }
    this.spent.set(client, spent + chars);
  }
}
