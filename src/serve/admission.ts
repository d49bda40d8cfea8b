import { HttpError } from './errors.js';

/**
 * The bound on work the server holds: sentences of admitted requests not yet translated. A request
 * that would go past it is refused at once (503, Retry-After) instead of queueing without limit, so
 * memory stays bounded however many clients send at once.
 */
export class SentenceAdmission {
  private pendingSentences = 0;

  constructor(
    private readonly max: number,
    /** Seconds a refused client is told to wait: about the time the queue takes to drain. */
    private readonly retryAfterSeconds: number,
  ) {}

  get pending(): number {
    return this.pendingSentences;
  }

  /**
   * Runs `work` holding `sentences` places in the queue. One request bigger than the whole bound is
   * let in when the queue is empty: it is already capped by the `q` and batch limits.
   */
  async hold<T>(sentences: number, work: () => Promise<T>): Promise<T> {
    if (this.pendingSentences > 0 && this.pendingSentences + sentences > this.max) {
      throw new HttpError(
        503,
        `Slowdown: the server is translating ${this.pendingSentences} sentences (serve.maxPendingSentences ${this.max}); try again later`,
        this.retryAfterSeconds,
      );
    }
    this.pendingSentences += sentences;
    try {
      return await work();
    } finally {
      this.pendingSentences -= sentences;
    }
  }
}
