/**
 * The translation memory's SQLite file: its schema, opening it (an integrity check first, then the
 * schema made or migrated), the prepared statements, and SQLite's damage errors as
 * `CacheCorruptError`.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CacheCorruptError, CacheError } from '../errors.js';

/**
 * 2: each translation carries a checksum. A version-1 memory is emptied of its translations when it
 * is opened (they can all be made again); the weights' file digests are kept.
 */
const SCHEMA_VERSION = 2;
/** A second run on the same cache waits this long for the other's write to finish. */
const BUSY_TIMEOUT_MS = 30_000;

const TRANSLATION_TABLES = `
  CREATE TABLE models (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    revision TEXT NOT NULL,
    dtype TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    UNIQUE (id, revision, dtype, fingerprint)
  );
  CREATE TABLE translations (
    model INTEGER NOT NULL REFERENCES models (key),
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    flags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    UNIQUE (model, source)
  );
`;
const DIGEST_TABLE = `
  CREATE TABLE IF NOT EXISTS file_digests (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    stamp TEXT NOT NULL,
    sha256 TEXT NOT NULL
  );
`;

export interface TranslationRow {
  source: string;
  target: string;
  flags: string;
  created_at: number;
  checksum: string;
}

export interface DigestRow {
  size: number;
  stamp: string;
  sha256: string;
}

/** An open database with its prepared statements. */
export class Connection {
  readonly selectModel: Database.Statement<[string, string, string, string], number>;
  readonly insertModel: Database.Statement<unknown[]>;
  readonly selectTranslations: Database.Statement<[number, string], TranslationRow>;
  readonly upsertTranslation: Database.Statement<unknown[]>;
  readonly selectDigest: Database.Statement<[string], DigestRow>;
  readonly upsertDigest: Database.Statement<unknown[]>;

  constructor(readonly db: Database.Database) {
    this.selectModel = db
      .prepare<[string, string, string, string], number>(
        'SELECT key FROM models WHERE id = ? AND revision = ? AND dtype = ? AND fingerprint = ?',
      )
      .pluck();
    this.insertModel = db.prepare('INSERT INTO models (id, revision, dtype, fingerprint) VALUES (?, ?, ?, ?)');
    // One statement for any number of sentences: the list goes in as a JSON array, so there is no
    // limit on bound variables and no statement per chunk size.
    this.selectTranslations = db.prepare<[number, string], TranslationRow>(
      `SELECT source, target, flags, created_at, checksum FROM translations
       WHERE model = ? AND source IN (SELECT value FROM json_each(?))`,
    );
    this.upsertTranslation = db.prepare(
      `INSERT INTO translations (model, source, target, flags, created_at, checksum) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (model, source) DO UPDATE SET target = excluded.target, flags = excluded.flags,
         created_at = excluded.created_at, checksum = excluded.checksum`,
    );
    this.selectDigest = db.prepare<[string], DigestRow>('SELECT size, stamp, sha256 FROM file_digests WHERE path = ?');
    this.upsertDigest = db.prepare(
      `INSERT INTO file_digests (path, size, stamp, sha256) VALUES (?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET size = excluded.size, stamp = excluded.stamp, sha256 = excluded.sha256`,
    );
  }

  /** Opens (or creates, with its directory) the database at `file` and checks it is whole. */
  static open(file: string): Connection {
    const resolved = path.resolve(file);
    if (existsAsDirectory(resolved)) {
      throw new CacheError(`translation memory ${file} is a directory; set cache.path in the config to a file path`);
    }
    try {
      mkdirSync(path.dirname(resolved), { recursive: true });
    } catch (error) {
      throw new CacheError(`cannot create the directory of translation memory ${file}: ${(error as Error).message}`);
    }
    let db: Database.Database;
    try {
      db = new Database(resolved, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw new CacheError(`cannot open translation memory ${file}: ${(error as Error).message}`);
    }
    try {
      guard(file, () => initialize(db, file));
      return new Connection(db);
    } catch (error) {
      db.close();
      if (error instanceof CacheError) throw error;
      throw new CacheError(
        `cannot open translation memory ${file}: ${(error as Error).message}; check the free space and permissions of its disk`,
      );
    }
  }
}

function initialize(db: Database.Database, file: string): void {
  // The whole file is checked once, before anything is read from it: a damaged page is found here
  // rather than as wrong or missing translations later.
  const integrity = db.pragma('integrity_check(1)', { simple: true }) as string;
  if (integrity !== 'ok') {
    throw new CacheCorruptError(file, `integrity check: ${integrity.replace(/\s+/g, ' ').replace(/\*\*\* in database main \*\*\* /, '')}`);
  }
  db.pragma('journal_mode = WAL');
  // In WAL mode a commit survives a killed process either way; NORMAL only risks the last commits
  // (never consistency) on power loss, and a lost cached translation is simply made again.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new CacheError(
      `translation memory ${file} was written by a newer newsbridge (schema ${version}); upgrade newsbridge, or run \`newsbridge cache clear\` to start a new cache`,
    );
  }
  db.transaction(() => {
    const tables = db.prepare("SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'").pluck().get() as string | null;
    if (version === 1 && tables !== null) {
      // Version 1 stored no checksums; its translations are dropped rather than trusted unchecked.
      db.exec('DROP TABLE translations; DROP TABLE models;');
    } else if (tables !== null) {
      throw new CacheError(
        `${file} is an SQLite database but not a newsbridge translation memory; point cache.path elsewhere, or delete the file`,
      );
    }
    db.exec(TRANSLATION_TABLES + DIGEST_TABLE);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

export function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/** Turns SQLite's "not a database" / "malformed" errors into one that names the file and the fix. */
export function guard<T>(file: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT'))) {
      throw new CacheCorruptError(file, (error as Error).message);
    }
    throw error;
  }
}

function existsAsDirectory(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
