import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPool } from '../../src/queue/connection.js';
import type { ModelKey, TranslationEntry } from '../../src/translation/memory.js';
import { PostgresTranslationMemory } from '../../src/translation/postgres-memory.js';
import { startPostgres, type TestPostgres } from '../../tools/postgres.js';

const MODEL: ModelKey = { id: 'Xenova/opus-mt-vi-en', revision: 'main', dtype: 'q8', fingerprint: 'weights-1' };

let server: TestPostgres;
let url: string;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.database('memory');
}, 180_000);

afterAll(async () => {
  await server?.dispose();
});

/** Two processes' worth: two memories on their own pools, as two workers have. */
async function openTwo(): Promise<[PostgresTranslationMemory, PostgresTranslationMemory]> {
  return Promise.all([
    PostgresTranslationMemory.open(openPool(url, 'memory', 4), 'host-a:1'),
    PostgresTranslationMemory.open(openPool(url, 'memory', 4), 'host-b:2'),
  ]);
}

/** A translator that records every sentence it is given; `until`, if given, is awaited before it answers. */
function recordingTranslator(seen: string[], until?: () => Promise<void>) {
  return async (sources: string[]): Promise<TranslationEntry[]> => {
    seen.push(...sources);
    await until?.();
    return sources.map((source) => ({ source, target: `EN ${source}`, flags: [] }));
  };
}

/** Resolves once some session waits for a sentence lock another holds: the other process is now blocked on us. */
async function untilALockIsAwaited(): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      if (rows[0]!.n > 0) return;
      await sleep(20);
    }
  } finally {
    await client.end();
  }
}

/** Starts `first`, resolving once its translator has been called, that is, once it holds its sentences' locks. */
function holdingLocks<T>(first: (translated: () => void) => Promise<T>): Promise<{ result: Promise<T> }> {
  return new Promise((resolve) => {
    const result = first(() => resolve({ result }));
  });
}

describe('PostgresTranslationMemory', () => {
  it('has a sentence translated once when two processes need it at the same time, and both get the translation', async () => {
    const [a, b] = await openTwo();
    const seen: string[] = [];
    // A answers only once B is waiting for one of A's sentences, so the two really overlap.
    const { result: fromAPending } = await holdingLocks((called) =>
      a.translateOnce(
        MODEL,
        ['Câu một.', 'Câu hai.'],
        recordingTranslator(seen, async () => {
          called();
          await untilALockIsAwaited();
        }),
      ),
    );
    const [fromA, fromB] = await Promise.all([
      fromAPending,
      b.translateOnce(MODEL, ['Câu hai.', 'Câu ba.', 'Câu một.'], recordingTranslator(seen)),
    ]);
    expect([...seen].sort()).toEqual(['Câu ba.', 'Câu hai.', 'Câu một.']);
    expect(fromA.entries.map((entry) => entry.target)).toEqual(['EN Câu một.', 'EN Câu hai.']);
    expect(fromB.entries.map((entry) => entry.target)).toEqual(['EN Câu hai.', 'EN Câu ba.', 'EN Câu một.']);
    expect(fromA.translated.size + fromB.translated.size).toBe(3);
    await Promise.all([a.close(), b.close()]);
  });

  it('keys translations like the SQLite memory: model id, revision, dtype, weights and sentence', async () => {
    const [a, b] = await openTwo();
    await a.translateOnce(MODEL, ['Một câu dài hơn một chút.'], recordingTranslator([]));
    const found = await b.lookup(MODEL, ['Một câu dài hơn một chút.', 'Chưa có.']);
    expect([...found.keys()]).toEqual(['Một câu dài hơn một chút.']);
    expect(found.get('Một câu dài hơn một chút.')).toMatchObject({ target: 'EN Một câu dài hơn một chút.', flags: [] });
    for (const other of [{ fingerprint: 'weights-2' }, { revision: 'v2' }, { dtype: 'fp32' }, { id: 'Xenova/opus-mt-ar-en' }]) {
      expect((await b.lookup({ ...MODEL, ...other }, ['Một câu dài hơn một chút.'])).size).toBe(0);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('stores sentences too long for a btree key', async () => {
    const [a] = await openTwo();
    const long = `${'Một câu rất dài. '.repeat(2000)}`;
    await a.translateOnce(MODEL, [long], recordingTranslator([]));
    expect((await a.lookup(MODEL, [long])).get(long)?.target).toBe(`EN ${long}`);
    await a.close();
  });

  it('a translation that fails releases its sentences to the process waiting for them', async () => {
    const [a, b] = await openTwo();
    const seen: string[] = [];
    // A fails only once B is waiting for its sentence.
    const { result: dying } = await holdingLocks((called) =>
      a.translateOnce(MODEL, ['Câu bốn.'], async () => {
        called();
        await untilALockIsAwaited();
        throw new Error('the model crashed');
      }),
    );
    const waiting = b.translateOnce(MODEL, ['Câu bốn.'], recordingTranslator(seen));
    await expect(dying).rejects.toThrow('the model crashed');
    expect((await waiting).entries[0]!.target).toBe('EN Câu bốn.');
    expect(seen).toEqual(['Câu bốn.']);
    await Promise.all([a.close(), b.close()]);
  });

  it('counts the queries that failed, so a worker knows to retry its article', async () => {
    const [a] = await openTwo();
    await a.close();
    await expect(a.lookup(MODEL, ['x'])).rejects.toThrow();
    expect(a.failures).toBe(1);
  });
});
