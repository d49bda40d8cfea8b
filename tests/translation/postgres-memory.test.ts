import { setTimeout as sleep } from 'node:timers/promises';
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

/** A translator that takes its time, as a model does, and records every sentence it is given. */
function slowTranslator(seen: string[], ms: number) {
  return async (sources: string[]): Promise<TranslationEntry[]> => {
    seen.push(...sources);
    await sleep(ms);
    return sources.map((source) => ({ source, target: `EN ${source}`, flags: [] }));
  };
}

describe('PostgresTranslationMemory', () => {
  it('has a sentence translated once when two processes need it at the same time, and both get the translation', async () => {
    const [a, b] = await openTwo();
    const seen: string[] = [];
    const [fromA, fromB] = await Promise.all([
      a.translateOnce(MODEL, ['Câu một.', 'Câu hai.'], slowTranslator(seen, 300)),
      b.translateOnce(MODEL, ['Câu hai.', 'Câu ba.', 'Câu một.'], slowTranslator(seen, 300)),
    ]);
    expect([...seen].sort()).toEqual(['Câu ba.', 'Câu hai.', 'Câu một.']);
    expect(fromA.entries.map((entry) => entry.target)).toEqual(['EN Câu một.', 'EN Câu hai.']);
    expect(fromB.entries.map((entry) => entry.target)).toEqual(['EN Câu hai.', 'EN Câu ba.', 'EN Câu một.']);
    expect(fromA.translated.size + fromB.translated.size).toBe(3);
    await Promise.all([a.close(), b.close()]);
  });

  it('keys translations like the SQLite memory: model id, revision, dtype, weights and sentence', async () => {
    const [a, b] = await openTwo();
    await a.translateOnce(MODEL, ['Một câu dài hơn một chút.'], slowTranslator([], 0));
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
    await a.translateOnce(MODEL, [long], slowTranslator([], 0));
    expect((await a.lookup(MODEL, [long])).get(long)?.target).toBe(`EN ${long}`);
    await a.close();
  });

  it('a translation that fails releases its sentences to the process waiting for them', async () => {
    const [a, b] = await openTwo();
    const seen: string[] = [];
    const dying = a.translateOnce(MODEL, ['Câu bốn.'], async () => {
      await sleep(200);
      throw new Error('the model crashed');
    });
    await sleep(50);
    const waiting = b.translateOnce(MODEL, ['Câu bốn.'], slowTranslator(seen, 0));
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
