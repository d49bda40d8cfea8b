import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FeedDocument } from './feed-document.js';

/**
 * What the last nights learnt of each feed (SQLite, `fetch.state`): its validators for a conditional
 * GET and the document it last sent, so a feed that answers 304 still gives its items (their pages
 * are revalidated too: an edited article keeps its place in an unchanged feed). Pages keep their own
 * state in their sidecars (saved-page.ts), written with them.
 */

export interface FeedRecord {
  url: string;
  finalUrl: string;
  etag: string | null;
  lastModified: string | null;
  fetchedAt: string;
  document: FeedDocument;
}

interface FeedRow {
  url: string;
  final_url: string;
  etag: string | null;
  last_modified: string | null;
  fetched_at: string;
  document: string;
}

export class FeedState {
  readonly #db: Database.Database;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS feeds (
      url TEXT PRIMARY KEY,
      final_url TEXT NOT NULL,
      etag TEXT,
      last_modified TEXT,
      fetched_at TEXT NOT NULL,
      document TEXT NOT NULL
    )`);
  }

  get(url: string): FeedRecord | null {
    const row = this.#db.prepare('SELECT * FROM feeds WHERE url = ?').get(url) as FeedRow | undefined;
    if (!row) return null;
    return {
      url: row.url,
      finalUrl: row.final_url,
      etag: row.etag,
      lastModified: row.last_modified,
      fetchedAt: row.fetched_at,
      document: JSON.parse(row.document) as FeedDocument,
    };
  }

  put(record: FeedRecord): void {
    this.#db
      .prepare(
        `INSERT INTO feeds (url, final_url, etag, last_modified, fetched_at, document) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (url) DO UPDATE SET final_url = excluded.final_url, etag = excluded.etag,
           last_modified = excluded.last_modified, fetched_at = excluded.fetched_at, document = excluded.document`,
      )
      .run(record.url, record.finalUrl, record.etag, record.lastModified, record.fetchedAt, JSON.stringify(record.document));
  }

  close(): void {
    this.#db.close();
  }
}
