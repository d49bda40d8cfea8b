import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * The server's API keys, from `serve.apiKeysFile` (one a line, `#` comments) and NEWSBRIDGE_API_KEYS
 * (comma-separated). Only their SHA-256 digests are kept, and a key is checked against every digest
 * with `timingSafeEqual`, so neither the answer's timing nor a heap dump gives a key away; keys are
 * never logged (the server's logger redacts `api_key`).
 */
export class ApiKeys {
  private constructor(private readonly digests: Buffer[]) {}

  static load(file: string | undefined, environment: string | undefined): ApiKeys {
    const keys: string[] = [];
    if (file !== undefined) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new ConfigError([
          {
            file,
            line: 0,
            col: 0,
            path: 'serve.apiKeysFile',
            problem: `cannot be read (${why}); fix the path or create the file, one key a line`,
          },
        ]);
      }
      keys.push(...text.split(/\r?\n/).map((line) => line.replace(/#.*/, '').trim()));
    }
    if (environment !== undefined) keys.push(...environment.split(',').map((key) => key.trim()));
    return new ApiKeys([...new Set(keys.filter((key) => key !== ''))].map(digest));
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Whether `key` is one of the keys; every digest is compared, so the time does not depend on which. */
  has(key: string): boolean {
    const candidate = digest(key);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(known, candidate) || found;
    return found;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
