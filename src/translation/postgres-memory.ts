import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { SentenceFlag } from '../article.js';
import {
  hashModelFiles,
  storableEntries,
  type CachedTranslation,
  type ModelKey,
  type TranslationEntry,
  type TranslationStore,
} from './memory.js';
import { sha256File } from '../models/files.js';

/**
 * The translation memory shared by the machines of one cluster, in the queue's PostgreSQL database:
 * the same key as the SQLite memory (model id, revision, dtype, weights fingerprint, source sentence).
 * A sentence one process is translating is locked (a transaction-scoped advisory lock per sentence,
 * released by PostgreSQL when the process dies), so another process that needs it waits for the
 * translation instead of sending it to its own model.
 */

const SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS newsbridge;
  CREATE TABLE IF NOT EXISTS newsbridge.translations (
    model_id text NOT NULL,
    revision text NOT NULL,
    dtype text NOT NULL,
    weights text NOT NULL,
    -- The key holds the sentence's hash, not the sentence: a btree entry cannot hold a long one.
    source_sha256 bytea NOT NULL,
    source text NOT NULL,
    target text NOT NULL,
    flags jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Which worker's model made it (host:pid), to trace a translation to a machine.
    created_by text NOT NULL,
    PRIMARY KEY (model_id, revision, dtype, weights, source_sha256)
  );
`;

/** The same constant as the queue's (`SCHEMA_LOCK` in queue/connection.ts): one lock for newsbridge's tables. */
const SCHEMA_LOCK = 0x6e657773;

const KEY_COLUMNS = 'model_id = $1 AND revision = $2 AND dtype = $3 AND weights = $4';

export class PostgresTranslationMemory implements TranslationStore {
  /** Queries that failed (the database unreachable or restarting); a worker retries the articles they touched. */
  failures = 0;
  private readonly digests = new Map<string, Promise<string>>();

  private constructor(
    private readonly pool: pg.Pool,
    /** Who translates through this memory (`host:pid`), stored with each translation. */
    private readonly translator: string,
  ) {}

  /** Connects with `pool` (owned from now on: `close` ends it) and creates the table when it is missing. */
  static async open(pool: pg.Pool, translator: string): Promise<PostgresTranslationMemory> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query(SCHEMA);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return new PostgresTranslationMemory(pool, translator);
  }

  async lookup(model: ModelKey, sources: readonly string[]): Promise<Map<string, CachedTranslation>> {
    if (sources.length === 0) return new Map();
    return this.counted(() => selectTranslations(this.pool, model, [...new Set(sources)]));
  }

  /**
   * Locks every sentence of `sources` (in one order everywhere, so two processes never wait on each
   * other), takes those another process translated meanwhile from the table, translates the rest,
   * stores them and commits, which releases the locks.
   */
  async translateOnce(
    model: ModelKey,
    sources: readonly string[],
    translate: (sources: string[]) => Promise<TranslationEntry[]>,
  ): Promise<{ entries: TranslationEntry[]; translated: ReadonlySet<string> }> {
    return this.counted(async () => {
      const client = await this.pool.connect();
      // The connection can drop while the model runs (no query in flight): that is said by the next query, not by a crash.
      const onError = () => undefined;
      client.on('error', onError);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const locks = [...new Set(sources.map((source) => sentenceLock(model, source)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        await client.query('SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k ORDER BY k', [locks.map(String)]);
        const known = await selectTranslations(client, model, [...sources]);
        const missing = sources.filter((source) => !known.has(source));
        const fresh = missing.length > 0 ? await translate(missing) : [];
        const stored = storableEntries(fresh);
        if (stored.length > 0) {
          await client.query(
            `INSERT INTO newsbridge.translations (model_id, revision, dtype, weights, source_sha256, source, target, flags, created_by)
             SELECT $1, $2, $3, $4, sha256(convert_to(e.source, 'UTF8')), e.source, e.target, e.flags, $6
             FROM jsonb_to_recordset($5::jsonb) AS e (source text, target text, flags jsonb)
             ON CONFLICT DO NOTHING`,
            [...keyValues(model), JSON.stringify(stored), this.translator],
          );
        }
        await client.query('COMMIT');
        const made = new Map(fresh.map((entry) => [entry.source, entry]));
        const entries = sources.map(
          (source) => made.get(source) ?? { source, target: known.get(source)!.target, flags: known.get(source)!.flags },
        );
        return { entries, translated: new Set(missing) };
      } catch (error) {
        broken = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.off('error', onError);
        // A connection that failed is closed rather than handed to the next query.
        client.release(broken);
      }
    });
  }

  /** Model weights are hashed once per process; a worker that sees new weights is restarted anyway. */
  fingerprint(modelDir: string, files: readonly string[]): Promise<string> {
    return hashModelFiles(modelDir, files, (file) => {
      let digest = this.digests.get(file);
      if (!digest) {
        digest = sha256File(file);
        this.digests.set(file, digest);
      }
      return digest;
    });
  }

  /** Resolves when the database answers; throws while it does not. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async counted<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      this.failures += 1;
      throw error;
    }
  }
}

function keyValues(model: ModelKey): string[] {
  return [model.id, model.revision, model.dtype, model.fingerprint];
}

async function selectTranslations(
  db: pg.Pool | pg.PoolClient,
  model: ModelKey,
  sources: string[],
): Promise<Map<string, CachedTranslation>> {
  const { rows } = await db.query<{ source: string; target: string; flags: SentenceFlag[]; created_at: Date }>(
    `SELECT source, target, flags, created_at FROM newsbridge.translations
     WHERE ${KEY_COLUMNS} AND source_sha256 IN (SELECT sha256(convert_to(s, 'UTF8')) FROM unnest($5::text[]) AS s)`,
    [...keyValues(model), sources],
  );
  return new Map(rows.map((row) => [row.source, { target: row.target, flags: row.flags, createdAt: row.created_at.getTime() }]));
}

/** The advisory lock standing for one sentence of one model: 64 bits of their hash. */
function sentenceLock(model: ModelKey, source: string): bigint {
  return createHash('sha256')
    .update(JSON.stringify([...keyValues(model), source]))
    .digest()
    .readBigInt64BE(0);
}
