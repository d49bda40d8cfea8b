import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SentenceFlag } from '../article.js';

/**
 * The translation memory: every sentence a model has translated, so that the same model never
 * translates it again. One SQLite file (WAL mode) shared by runs; a row per model key and source
 * sentence.
 */

/**
 * What produced a translation. `fingerprint` identifies the weights actually used, not just their
 * name: a model re-downloaded under the same id and revision (`main` moves) but with other weights
 * must not reuse the old translations. See {@link TranslationMemory.fingerprint}.
 */
export interface ModelKey {
  id: string;
  revision: string;
  dtype: string;
  fingerprint: string;
}

export interface CachedTranslation {
  target: string;
  flags: SentenceFlag[];
  /** When it was stored, ms since the epoch. */
  createdAt: number;
}

export interface TranslationEntry {
  source: string;
  target: string;
  flags: SentenceFlag[];
}

/**
 * What the translate stage's backend needs of a translation memory: the SQLite file of one machine
 * ({@link TranslationMemory}) or the PostgreSQL table a cluster shares (`PostgresTranslationMemory`).
 */
export interface TranslationStore {
  /** The stored translations of `sources` made by `model`, keyed by source sentence. */
  lookup(model: ModelKey, sources: readonly string[]): Map<string, CachedTranslation> | Promise<Map<string, CachedTranslation>>;
  /**
   * Gets `sources` (none of them found by `lookup` a moment ago) translated by `translate` and stores
   * them; returns every source's translation in order and the sources `translate` made. A memory that
   * several processes share hands a sentence another process is translating over once it is stored,
   * so no sentence reaches two models.
   */
  translateOnce(
    model: ModelKey,
    sources: readonly string[],
    translate: (sources: string[]) => Promise<TranslationEntry[]>,
  ): Promise<{ entries: TranslationEntry[]; translated: ReadonlySet<string> }>;
  /** A fingerprint of the model's weights; see {@link TranslationMemory.fingerprint}. */
  fingerprint(modelDir: string, files: readonly string[]): Promise<string>;
  close(): void | Promise<void>;
}

export interface ModelStats extends ModelKey {
  sentences: number;
}

export interface CacheStats {
  path: string;
  /** The database file plus its write-ahead log. */
  bytes: number;
  sentences: number;
  models: ModelStats[];
}

/** The cache file cannot be used; the message names the file and the fix. */
export class CacheError extends Error {
  override name = 'CacheError';
}

/** Raised when the file is not a readable SQLite database (damaged, truncated, or something else). */
export class CacheCorruptError extends CacheError {
  override name = 'CacheCorruptError';
}

const SCHEMA_VERSION = 1;
/** A second run on the same cache waits this long for the other's write to finish. */
const BUSY_TIMEOUT_MS = 30_000;

const SCHEMA = `
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
    UNIQUE (model, source)
  );
  CREATE TABLE file_digests (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    stamp TEXT NOT NULL,
    sha256 TEXT NOT NULL
  );
`;

interface TranslationRow {
  source: string;
  target: string;
  flags: string;
  created_at: number;
}

interface DigestRow {
  size: number;
  stamp: string;
  sha256: string;
}

export class TranslationMemory implements TranslationStore {
  private readonly modelKeys = new Map<string, number>();
  private readonly selectModel;
  private readonly insertModel;
  private readonly selectTranslations;
  private readonly upsertTranslation;
  private readonly selectDigest;
  private readonly upsertDigest;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {
    this.selectModel = db
      .prepare<[string, string, string, string], number>(
        'SELECT key FROM models WHERE id = ? AND revision = ? AND dtype = ? AND fingerprint = ?',
      )
      .pluck();
    this.insertModel = db.prepare('INSERT INTO models (id, revision, dtype, fingerprint) VALUES (?, ?, ?, ?)');
    // One statement for any number of sentences: the list goes in as a JSON array, so there is no
    // limit on bound variables and no statement per chunk size.
    this.selectTranslations = db.prepare<[number, string], TranslationRow>(
      `SELECT source, target, flags, created_at FROM translations
       WHERE model = ? AND source IN (SELECT value FROM json_each(?))`,
    );
    this.upsertTranslation = db.prepare(
      `INSERT INTO translations (model, source, target, flags, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (model, source) DO UPDATE SET target = excluded.target, flags = excluded.flags,
         created_at = excluded.created_at`,
    );
    this.selectDigest = db.prepare<[string], DigestRow>('SELECT size, stamp, sha256 FROM file_digests WHERE path = ?');
    this.upsertDigest = db.prepare(
      `INSERT INTO file_digests (path, size, stamp, sha256) VALUES (?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET size = excluded.size, stamp = excluded.stamp, sha256 = excluded.sha256`,
    );
  }

  /** Opens (or creates, with its directory) the translation memory at `file`. */
  static open(file: string): TranslationMemory {
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
      return new TranslationMemory(file, db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Deletes the cache file and its WAL side files; works on a file too damaged to open. */
  static remove(file: string): void {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }

  /** The cached translations of `sources` made by `model`, keyed by source sentence. */
  lookup(model: ModelKey, sources: readonly string[]): Map<string, CachedTranslation> {
    const found = new Map<string, CachedTranslation>();
    if (sources.length === 0) return found;
    return guard(this.path, () => {
      const key = this.modelKey(model, false);
      if (key === undefined) return found;
      const unique = JSON.stringify([...new Set(sources)]);
      for (const row of this.selectTranslations.iterate(key, unique)) {
        found.set(row.source, {
          target: row.target,
          flags: JSON.parse(row.flags) as SentenceFlag[],
          createdAt: row.created_at,
        });
      }
      return found;
    });
  }

  /** Stores translations made by `model`, all in one transaction: all of them or none survive a crash. */
  store(model: ModelKey, entries: readonly TranslationEntry[]): void {
    if (entries.length === 0) return;
    guard(this.path, () =>
      this.db.transaction(() => {
        const key = this.modelKey(model, true)!;
        const now = Date.now();
        for (const entry of entries) {
          this.upsertTranslation.run(key, entry.source, entry.target, JSON.stringify(entry.flags), now);
        }
      }).immediate(),
    );
  }

  /** One process uses the file at a time (a run), so nobody else can be translating the same sentences. */
  async translateOnce(
    model: ModelKey,
    sources: readonly string[],
    translate: (sources: string[]) => Promise<TranslationEntry[]>,
  ): Promise<{ entries: TranslationEntry[]; translated: ReadonlySet<string> }> {
    const entries = await translate([...sources]);
    this.store(model, storableEntries(entries));
    return { entries, translated: new Set(sources) };
  }

  stats(): CacheStats {
    return guard(this.path, () => {
      const models = this.db
        .prepare<[], ModelStats>(
          `SELECT m.id, m.revision, m.dtype, m.fingerprint, count(t.model) AS sentences
           FROM models m LEFT JOIN translations t ON t.model = m.key
           GROUP BY m.key ORDER BY m.id, m.revision, m.dtype, m.fingerprint`,
        )
        .all();
      const sentences = models.reduce((sum, model) => sum + model.sentences, 0);
      const bytes = fileSize(this.path) + fileSize(`${this.path}-wal`);
      return { path: this.path, bytes, sentences, models };
    });
  }

  /**
   * Deletes the translations of the models matching `filter` (every field given must match), or all
   * of them; returns how many sentences were deleted. The file shrinks accordingly.
   */
  clear(filter: Partial<ModelKey> = {}): number {
    return guard(this.path, () => {
      const fields = (['id', 'revision', 'dtype', 'fingerprint'] as const).filter((field) => filter[field] !== undefined);
      const where = fields.map((field) => `${field} = ?`).join(' AND ') || 'TRUE';
      const values = fields.map((field) => filter[field]);
      const deleted = this.db.transaction(() => {
        const keys = `SELECT key FROM models WHERE ${where}`;
        const { changes } = this.db.prepare(`DELETE FROM translations WHERE model IN (${keys})`).run(...values);
        this.db.prepare(`DELETE FROM models WHERE ${where}`).run(...values);
        return changes;
      }).immediate();
      this.modelKeys.clear();
      this.db.exec('VACUUM');
      return deleted;
    });
  }

  /**
   * A fingerprint of a model's weights: sha256 over the names and contents of `files` (paths relative
   * to `modelDir`) — the ONNX files the Translator loads and the tokenizer and config that shape its
   * output. Content, not name or download metadata, because only the bytes say whether two models
   * translate alike: a re-downloaded `main` with new weights gets a new fingerprint, while the same
   * files copied elsewhere or touched keep theirs. Hashing ~100 MB of weights takes a few tenths of a
   * second, so each file's digest is remembered here by path, size, inode, mtime and ctime, and
   * recomputed when any of those changes (ctime cannot be set back, so a rewrite is always noticed).
   */
  fingerprint(modelDir: string, files: readonly string[]): Promise<string> {
    return hashModelFiles(modelDir, files, (file) => this.fileDigest(file));
  }

  close(): void {
    this.db.close();
  }

  private async fileDigest(file: string): Promise<string> {
    const info = await stat(file, { bigint: true });
    const size = Number(info.size);
    const stamp = `${info.ino}:${info.mtimeNs}:${info.ctimeNs}`;
    const known = guard(this.path, () => this.selectDigest.get(file));
    if (known && known.size === size && known.stamp === stamp) return known.sha256;
    const sha256 = await sha256OfFile(file);
    guard(this.path, () => this.upsertDigest.run(file, size, stamp, sha256));
    return sha256;
  }

  private modelKey(model: ModelKey, create: boolean): number | undefined {
    const name = JSON.stringify([model.id, model.revision, model.dtype, model.fingerprint]);
    let key = this.modelKeys.get(name) ?? this.selectModel.get(model.id, model.revision, model.dtype, model.fingerprint);
    if (key === undefined && create) {
      key = Number(this.insertModel.run(model.id, model.revision, model.dtype, model.fingerprint).lastInsertRowid);
    }
    if (key !== undefined) this.modelKeys.set(name, key);
    return key;
  }
}

/** sha256 over the names and digests of a model's `files`, in name order; `digest` hashes one file. */
export async function hashModelFiles(
  modelDir: string,
  files: readonly string[],
  digest: (file: string) => Promise<string>,
): Promise<string> {
  const whole = createHash('sha256');
  for (const file of [...files].sort()) whole.update(`${file}\0${await digest(path.resolve(modelDir, file))}\n`);
  return whole.digest('hex');
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Empty targets come from empty sources, which the Translator never sends to a model: nothing to keep. */
export function storableEntries(entries: readonly TranslationEntry[]): TranslationEntry[] {
  return entries.filter((entry) => entry.source.trim() !== '');
}

function initialize(db: Database.Database, file: string): void {
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
    const tables = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
    if (tables > 0) {
      throw new CacheError(
        `${file} is an SQLite database but not a newsbridge translation memory; point cache.path elsewhere, or delete the file`,
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** Turns SQLite's "not a database" / "malformed" errors into one that names the file and the fix. */
function guard<T>(file: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT'))) {
      throw new CacheCorruptError(
        `translation memory ${file} is damaged or not an SQLite database (${(error as Error).message}); run \`newsbridge cache clear\` or delete the file (the cache is rebuilt on the next run)`,
      );
    }
    throw error;
  }
}

function existsAsDirectory(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function fileSize(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.size ?? 0;
}
