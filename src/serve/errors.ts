/**
 * A request refused with a LibreTranslate-shaped answer: `{"error": message}` with this status, and
 * `Retry-After` when trying again later can work (rate limits, a full queue, a deadline).
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 413 | 415 | 429 | 500 | 503,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** LibreTranslate's wording for a missing or bad parameter. */
export function badParameter(name: string, problem = 'missing'): HttpError {
  return new HttpError(400, problem === 'missing' ? `Invalid request: missing ${name} parameter` : `Invalid request: ${name} ${problem}`);
}
