import { createHash } from 'node:crypto';
import { renameSync, rmSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { SentenceFlag } from '../article.js';
import { CacheCorruptError, CacheError } from '../errors.js';
import { sha256File } from '../models/files.js';
import { Connection, guard, isSqliteError } from './memory-database.js';

/**
 * The translation memory: every sentence a model has translated, so that the same model never
 * translates it again. One SQLite file (WAL mode, ./memory-database.ts) shared by runs; a row per
 * model key and source sentence.
 */

/**
 * What produced a translation. `fingerprint` identifies the weights actually used, not just their
 * name (a model re-downloaded under the same id and revision, `main` moves, but with other weights
 * must not reuse the old translations; see {@link TranslationMemory.fingerprint}), together with the
 * decoding settings that shape the output (beams, q8 activations: `Translator.decoding`).
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

/**
 * What a stored translation must hash to: the model that made it, the source, the English and the
 * flags. Catches damage SQLite's own checks cannot see (a same-length edit of the English).
 */
function checksumOf(model: ModelKey, source: string, target: string, flags: string): string {
  return createHash('sha256')
    .update(JSON.stringify([model.id, model.revision, model.dtype, model.fingerprint, source, target, flags]))
    .digest('hex')
    .slice(0, 32);
}

/** Says a problem with the translation memory once; the run goes on without what it could not do. */
export type MemoryProblem = (message: string) => void;

export class TranslationMemory implements TranslationStore {
  private readonly modelKeys = new Map<string, number>();
  private readonly said = new Set<'damaged' | 'unwritable' | 'unreadable' | 'unusable'>();

  private constructor(
    readonly path: string,
    /** Null once the memory could not be opened again after damage: every lookup misses. */
    private connection: Connection | null,
    /** Set for a run: damage and failed writes are said here instead of thrown. */
    private readonly onProblem?: MemoryProblem,
  ) {}

  /**
   * Opens (or creates, with its directory) the translation memory at `file`, after an integrity
   * check. Throws `CacheCorruptError` when the file is damaged: for `cache stats`, `cache clear`.
   */
  static open(file: string): TranslationMemory {
    return new TranslationMemory(file, Connection.open(file));
  }

  /**
   * The translation memory for a run, which never stops for it: a damaged file (failed integrity
   * check, a translation that does not match its checksum, now or later) is moved aside and a new
   * memory started; a write that fails (a full disk) leaves the translations to the outputs alone
   * and is tried again with the next batch. Each kind of problem is said once through `onProblem`.
   * Throws `CacheError` only when no memory can be opened at all.
   */
  static openForRun(file: string, onProblem: MemoryProblem): TranslationMemory {
    try {
      return new TranslationMemory(file, Connection.open(file), onProblem);
    } catch (error) {
      if (!(error instanceof CacheCorruptError)) throw error;
      const memory = new TranslationMemory(file, null, onProblem);
      memory.recover(error);
      return memory;
    }
  }

  /** Deletes the cache file and its WAL side files; works on a file too damaged to open. */
  static remove(file: string): void {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }

  /** The cached translations of `sources` made by `model`, keyed by source sentence. */
  lookup(model: ModelKey, sources: readonly string[]): Map<string, CachedTranslation> {
    if (sources.length === 0) return new Map();
    // On damage nothing read so far is trusted: the fallback is a fresh, empty map.
    return this.reading(new Map<string, CachedTranslation>(), (connection) => {
      const found = new Map<string, CachedTranslation>();
      const key = this.modelKey(connection, model);
      if (key === undefined) return found;
      const unique = JSON.stringify([...new Set(sources)]);
      for (const row of connection.selectTranslations.iterate(key, unique)) {
        if (row.checksum !== checksumOf(model, row.source, row.target, row.flags)) {
          throw new CacheCorruptError(this.path, `the stored translation of "${row.source.slice(0, 60)}" does not match its checksum`);
        }
        found.set(row.source, {
          target: row.target,
          flags: JSON.parse(row.flags) as SentenceFlag[],
          createdAt: row.created_at,
        });
      }
      return found;
    });
  }

  /**
   * Stores translations made by `model`, all in one transaction: all of them or none survive a crash.
   * For a run, a failed write is said once and the batch is simply not remembered.
   */
  store(model: ModelKey, entries: readonly TranslationEntry[]): void {
    if (entries.length === 0) return;
    this.writing((connection) => {
      const created: [string, number][] = [];
      connection.db
        .transaction(() => {
          const known = this.modelKey(connection, model);
          const key = known ?? Number(connection.insertModel.run(model.id, model.revision, model.dtype, model.fingerprint).lastInsertRowid);
          if (known === undefined) created.push([modelName(model), key]);
          const now = Date.now();
          for (const entry of entries) {
            const flags = JSON.stringify(entry.flags);
            connection.upsertTranslation.run(
              key,
              entry.source,
              entry.target,
              flags,
              now,
              checksumOf(model, entry.source, entry.target, flags),
            );
          }
        })
        .immediate();
      // Remembered only once committed: a rolled-back insert leaves no key behind.
      for (const [name, key] of created) this.modelKeys.set(name, key);
    });
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
    const { db } = this.strict();
    return guard(this.path, () => {
      const models = db
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
    const { db } = this.strict();
    return guard(this.path, () => {
      const fields = (['id', 'revision', 'dtype', 'fingerprint'] as const).filter((field) => filter[field] !== undefined);
      const where = fields.map((field) => `${field} = ?`).join(' AND ') || 'TRUE';
      const values = fields.map((field) => filter[field]);
      const deleted = db
        .transaction(() => {
          const keys = `SELECT key FROM models WHERE ${where}`;
          const { changes } = db.prepare(`DELETE FROM translations WHERE model IN (${keys})`).run(...values);
          db.prepare(`DELETE FROM models WHERE ${where}`).run(...values);
          return changes;
        })
        .immediate();
      this.modelKeys.clear();
      db.exec('VACUUM');
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
    this.connection?.db.close();
    this.connection = null;
  }

  private async fileDigest(file: string): Promise<string> {
    const info = await stat(file, { bigint: true });
    const size = Number(info.size);
    const stamp = `${info.ino}:${info.mtimeNs}:${info.ctimeNs}`;
    const known = this.reading(undefined, (connection) => connection.selectDigest.get(file));
    if (known && known.size === size && known.stamp === stamp) return known.sha256;
    const sha256 = await sha256File(file);
    this.writing((connection) => connection.upsertDigest.run(file, size, stamp, sha256));
    return sha256;
  }

  /** The model's row key when it has one (remembered: it never changes once committed). */
  private modelKey(connection: Connection, model: ModelKey): number | undefined {
    const name = modelName(model);
    const key = this.modelKeys.get(name) ?? connection.selectModel.get(model.id, model.revision, model.dtype, model.fingerprint);
    if (key !== undefined) this.modelKeys.set(name, key);
    return key;
  }

  /** The connection for `stats` and `clear`, which report problems instead of working around them. */
  private strict(): Connection {
    if (!this.connection) throw new CacheError(`translation memory ${this.path} is closed`);
    return this.connection;
  }

  /** Runs a read; for a run, damage is recovered from and any other failure said once, and `fallback` returned. */
  private reading<T>(fallback: T, action: (connection: Connection) => T): T {
    return this.safely(fallback, action, 'unreadable', 'could not be read');
  }

  /** Runs a write; for a run, a failure (a full disk) is said once and the write skipped; the next one tries again. */
  private writing(action: (connection: Connection) => unknown): void {
    this.safely(undefined, action, 'unwritable', 'cannot store translations');
  }

  private safely<T>(fallback: T, action: (connection: Connection) => T, kind: 'unreadable' | 'unwritable', what: string): T {
    const connection = this.connection;
    if (!connection) {
      if (this.onProblem) return fallback;
      throw new CacheError(`translation memory ${this.path} is closed`);
    }
    try {
      return guard(this.path, () => action(connection));
    } catch (error) {
      if (!this.onProblem) throw error;
      if (error instanceof CacheCorruptError) {
        this.recover(error);
      } else if (isSqliteError(error)) {
        this.sayOnce(
          kind,
          `translation memory ${this.path} ${what} (${(error as Error).message}); the translations still reach the outputs but are not remembered${kind === 'unwritable' ? ' until it can be written again: free space on its disk, or set cache.path elsewhere' : ''}`,
        );
      } else {
        throw error;
      }
      return fallback;
    }
  }

  /** Moves a damaged memory aside and starts a new one in its place, saying so once. */
  private recover(damage: CacheCorruptError): void {
    try {
      this.connection?.db.close();
    } catch {
      // Closing a damaged database may fail too; it is being replaced either way.
    }
    this.connection = null;
    this.modelKeys.clear();
    const aside = `${this.path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.path, aside);
      for (const suffix of ['-wal', '-shm']) rmSync(`${this.path}${suffix}`, { force: true });
      this.connection = Connection.open(this.path);
      this.sayOnce(
        'damaged',
        `translation memory ${this.path} was damaged (${damage.detail}); it was moved aside to ${aside} and a new one started, so its translations are made again`,
      );
    } catch (error) {
      this.sayOnce(
        'unusable',
        `translation memory ${this.path} was damaged (${damage.detail}) and could not be replaced (${(error as Error).message}); this run goes on without it. Fix: run \`newsbridge cache clear\` or delete the file`,
      );
    }
  }

  private sayOnce(kind: 'damaged' | 'unwritable' | 'unreadable' | 'unusable', message: string): void {
    if (this.said.has(kind)) return;
    this.said.add(kind);
    this.onProblem?.(message);
  }
}

function modelName(model: ModelKey): string {
  return JSON.stringify([model.id, model.revision, model.dtype, model.fingerprint]);
}

function fileSize(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.size ?? 0;
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

/** Empty targets come from empty sources, which the Translator never sends to a model: nothing to keep. */
export function storableEntries(entries: readonly TranslationEntry[]): TranslationEntry[] {
  return entries.filter((entry) => entry.source.trim() !== '');
}
