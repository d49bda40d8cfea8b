import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TranslationMemory, type ModelKey } from '../../src/translation/memory.js';
import { CacheCorruptError, CacheError } from '../../src/errors.js';
import { mountSmallDisk } from '../helpers/tmpfs.js';

const arabic: ModelKey = { id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8', fingerprint: 'aaa' };

let dir: string;
let file: string;
const open: TranslationMemory[] = [];

function openMemory(at = file): TranslationMemory {
  const memory = TranslationMemory.open(at);
  open.push(memory);
  return memory;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'newsbridge-cache-'));
  file = path.join(dir, 'nested', 'cache.sqlite');
});

afterEach(() => {
  for (const memory of open.splice(0)) memory.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TranslationMemory', () => {
  it('creates its directory and returns what was stored, with flags', () => {
    const memory = openMemory();
    memory.store(arabic, [
      { source: 'مرحبا', target: 'Hello', flags: [] },
      { source: 'شكرا', target: 'Thanks thanks thanks', flags: ['repetition-loop'] },
    ]);
    const found = memory.lookup(arabic, ['مرحبا', 'شكرا', 'غير موجود', 'مرحبا']);
    expect(found.size).toBe(2);
    expect(found.get('مرحبا')).toMatchObject({ target: 'Hello', flags: [] });
    expect(found.get('شكرا')).toMatchObject({ target: 'Thanks thanks thanks', flags: ['repetition-loop'] });
    expect(found.get('مرحبا')!.createdAt).toBeGreaterThan(Date.now() - 60_000);
    expect(found.has('غير موجود')).toBe(false);
  });

  it('keeps the translations of different model ids, revisions, dtypes and weights apart', () => {
    const memory = openMemory();
    const variants: ModelKey[] = [
      arabic,
      { ...arabic, id: 'Helsinki-NLP/opus-mt-tc-big-ar-en' },
      { ...arabic, revision: 'v2' },
      { ...arabic, dtype: 'fp32' },
      { ...arabic, fingerprint: 'bbb' },
    ];
    for (const [index, model] of variants.entries()) memory.store(model, [{ source: 'نص', target: `text ${index}`, flags: [] }]);
    for (const [index, model] of variants.entries()) expect(memory.lookup(model, ['نص']).get('نص')?.target).toBe(`text ${index}`);
    expect(memory.lookup({ ...arabic, fingerprint: 'never-stored' }, ['نص']).size).toBe(0);
    expect(memory.stats().models).toHaveLength(variants.length);
  });

  it('replaces an entry stored again for the same model and sentence', () => {
    const memory = openMemory();
    memory.store(arabic, [{ source: 'نص', target: 'old', flags: ['length-ratio'] }]);
    memory.store(arabic, [{ source: 'نص', target: 'new', flags: [] }]);
    expect(memory.lookup(arabic, ['نص']).get('نص')).toMatchObject({ target: 'new', flags: [] });
    expect(memory.stats().sentences).toBe(1);
  });

  it('looks up thousands of sentences at once', () => {
    const memory = openMemory();
    const sources = Array.from({ length: 40_000 }, (_, i) => `câu ${i}`);
    memory.store(
      arabic,
      sources.map((source, i) => ({ source, target: `sentence ${i}`, flags: [] })),
    );
    const asked = [...sources.filter((_, i) => i % 3 === 0), 'not there'];
    const found = memory.lookup(arabic, asked);
    expect(found.size).toBe(asked.length - 1);
    expect(found.get('câu 39999')?.target).toBe('sentence 39999');
  });

  it('survives closing and reopening', () => {
    const first = openMemory();
    first.store(arabic, [{ source: 'صباح الخير', target: 'Good morning', flags: [] }]);
    first.close();
    const second = openMemory();
    expect(second.lookup(arabic, ['صباح الخير']).get('صباح الخير')?.target).toBe('Good morning');
  });

  it('uses WAL journaling', () => {
    openMemory().store(arabic, [{ source: 'a', target: 'b', flags: [] }]);
    expect(existsSync(`${file}-wal`)).toBe(true);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('reports sentences per model and the file size', () => {
    const memory = openMemory();
    memory.store(arabic, [
      { source: 'a', target: 'b', flags: [] },
      { source: 'c', target: 'd', flags: [] },
    ]);
    memory.store({ ...arabic, id: 'Xenova/opus-mt-vi-en' }, [{ source: 'e', target: 'f', flags: [] }]);
    const stats = memory.stats();
    expect(stats.sentences).toBe(3);
    expect(stats.models.map((m) => [m.id, m.sentences])).toEqual([
      ['Xenova/opus-mt-ar-en', 2],
      ['Xenova/opus-mt-vi-en', 1],
    ]);
    expect(stats.bytes).toBeGreaterThan(0);
  });

  it('clears one model or everything', () => {
    const memory = openMemory();
    const vietnamese = { ...arabic, id: 'Xenova/opus-mt-vi-en' };
    memory.store(arabic, [{ source: 'a', target: 'b', flags: [] }]);
    memory.store(vietnamese, [{ source: 'c', target: 'd', flags: [] }]);
    expect(memory.clear({ id: 'Xenova/opus-mt-ar-en' })).toBe(1);
    expect(memory.lookup(arabic, ['a']).size).toBe(0);
    expect(memory.lookup(vietnamese, ['c']).size).toBe(1);
    memory.store(arabic, [{ source: 'a', target: 'b again', flags: [] }]);
    expect(memory.lookup(arabic, ['a']).get('a')?.target).toBe('b again');
    expect(memory.clear()).toBe(2);
    expect(memory.stats()).toMatchObject({ sentences: 0, models: [] });
  });

  it('names the file and the fix when the file is not a database', () => {
    writeFileSync(file.replace('nested/', ''), 'this is not sqlite, just a text file '.repeat(200));
    const corrupt = file.replace('nested/', '');
    expect(() => openMemory(corrupt)).toThrow(CacheCorruptError);
    expect(() => openMemory(corrupt)).toThrow(new RegExp(`${corrupt}.*newsbridge cache clear.*delete the file`));
    TranslationMemory.remove(corrupt);
    expect(openMemory(corrupt).stats().sentences).toBe(0);
  });

  it('names the file and the fix when the database pages are damaged', () => {
    const memory = openMemory();
    memory.store(
      arabic,
      Array.from({ length: 5000 }, (_, i) => ({ source: `s${i}`, target: `t${i}`, flags: [] })),
    );
    memory.close();
    const bytes = readFileSync(file);
    // Keep the header page, scramble the rest: the tables and indexes are gone.
    bytes.fill(0x5a, 4096);
    writeFileSync(file, bytes);
    const attempt = () => {
      const reopened = openMemory();
      reopened.lookup(arabic, ['s1', 's4000']);
    };
    expect(attempt).toThrow(CacheCorruptError);
    expect(attempt).toThrow(/newsbridge cache clear/);
  });

  it('names the file when it is some other SQLite database', () => {
    const other = new Database(file.replace('nested/', ''));
    other.exec('CREATE TABLE invoices (id INTEGER)');
    other.close();
    expect(() => openMemory(file.replace('nested/', ''))).toThrow(/not a newsbridge translation memory/);
  });

  it('refuses a directory as the cache path', () => {
    expect(() => openMemory(dir)).toThrow(CacheError);
    expect(() => openMemory(dir)).toThrow(/is a directory/);
  });

  it('shares the file between two connections', () => {
    const one = openMemory();
    const two = openMemory();
    one.store(arabic, [{ source: 'a', target: 'from one', flags: [] }]);
    expect(two.lookup(arabic, ['a']).get('a')?.target).toBe('from one');
    two.store(arabic, [{ source: 'b', target: 'from two', flags: [] }]);
    expect(one.lookup(arabic, ['a', 'b']).size).toBe(2);
  });

  it('waits for another process that is writing instead of failing as busy', async () => {
    openMemory().close();
    // A second process holds the write lock, as another run's store() would, until it sees that this
    // process is about to store, and a moment longer; it prints when it let go.
    const storing = `${file}.storing`;
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const Database = require('better-sqlite3');
         const db = new Database(process.argv[1]);
         db.exec('BEGIN IMMEDIATE');
         console.log('locked');
         const poll = setInterval(() => {
           if (!fs.existsSync(process.argv[2])) return;
           clearInterval(poll);
           setTimeout(() => { db.exec('COMMIT'); console.log('released ' + Date.now()); db.close(); }, 200);
         }, 10);`,
        file,
        storing,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    holder.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    const memory = openMemory();
    writeFileSync(storing, '');
    memory.store(arabic, [{ source: 'a', target: 'b', flags: [] }]);
    const stored = Date.now();
    await exited;
    // The store finished only after the holder let go: it waited for the lock rather than failing.
    const released = Number(/released (\d+)/.exec(output)?.[1]);
    expect(released).toBeGreaterThan(0);
    expect(stored).toBeGreaterThanOrEqual(released);
    expect(memory.lookup(arabic, ['a']).size).toBe(1);
  });

  describe('fingerprint', () => {
    function writeModel(folder: string, weights: string) {
      writeFileSync(path.join(folder, 'encoder_model_quantized.onnx'), weights);
      writeFileSync(path.join(folder, 'tokenizer.json'), '{"model":{}}');
    }
    const files = ['encoder_model_quantized.onnx', 'tokenizer.json'];

    it('depends on the weights, not on where they are or when they were written', async () => {
      const memory = openMemory();
      const a = mkdtempSync(path.join(dir, 'a-'));
      const b = mkdtempSync(path.join(dir, 'b-'));
      writeModel(a, 'weights v1');
      writeModel(b, 'weights v1');
      utimesSync(path.join(b, 'tokenizer.json'), new Date(2001, 1, 1), new Date(2001, 1, 1));
      const first = await memory.fingerprint(a, files);
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(await memory.fingerprint(b, [...files].reverse())).toBe(first);
      writeModel(a, 'weights v2');
      expect(await memory.fingerprint(a, files)).not.toBe(first);
    });

    it('notices a re-downloaded file even with the same size and mtime', async () => {
      const memory = openMemory();
      const folder = mkdtempSync(path.join(dir, 'm-'));
      writeModel(folder, 'weights v1');
      const weights = path.join(folder, 'encoder_model_quantized.onnx');
      const { mtime } = statSync(weights);
      const first = await memory.fingerprint(folder, files);
      // ctime has a coarse clock; a real download takes far longer than this.
      await new Promise((resolve) => setTimeout(resolve, 30));
      // A download replaces the file (new inode) with different bytes of the same length.
      rmSync(weights);
      writeFileSync(weights, 'weights v9');
      utimesSync(weights, mtime, mtime);
      expect(await memory.fingerprint(folder, files)).not.toBe(first);
    });

    it('fails naming the file when a model file is missing', async () => {
      const memory = openMemory();
      await expect(memory.fingerprint(dir, ['missing.onnx'])).rejects.toThrow(/missing\.onnx/);
    });
  });
});

describe('TranslationMemory for a run: damage and full disks never cost a translation', () => {
  const entries = Array.from({ length: 40 }, (_, i) => ({ source: `جملة رقم ${i}`, target: `sentence number ${i}`, flags: [] }));
  const sources = entries.map((entry) => entry.source);

  function openForRun(at = file): { memory: TranslationMemory; problems: string[] } {
    const problems: string[] = [];
    const memory = TranslationMemory.openForRun(at, (message) => problems.push(message));
    open.push(memory);
    return { memory, problems };
  }

  it('garbage in the middle of the file: the integrity check catches it on open, the file goes aside, a new memory works', () => {
    const first = openMemory();
    first.store(arabic, entries);
    first.store(
      { ...arabic, id: 'Xenova/opus-mt-vi-en' },
      Array.from({ length: 3000 }, (_, i) => ({ source: `s${i}`, target: `t${i}`, flags: [] })),
    );
    first.close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 8192);
    writeFileSync(file, bytes);

    expect(() => openMemory()).toThrow(CacheCorruptError);
    const { memory, problems } = openForRun();
    expect(problems).toEqual([
      expect.stringMatching(
        /cache\.sqlite was damaged \(.*integrity check.*\); it was moved aside to .*cache\.sqlite\.damaged-.* and a new one started/,
      ),
    ]);
    const aside = readdirSync(path.dirname(file)).filter((name) => name.startsWith('cache.sqlite.damaged-'));
    expect(aside).toHaveLength(1);
    expect(memory.lookup(arabic, sources).size).toBe(0);
    memory.store(arabic, entries);
    expect(memory.lookup(arabic, sources).size).toBe(entries.length);
    expect(problems).toHaveLength(1);
  });

  it('a same-length edit of a stored English sentence passes SQLite but not its checksum: never served, said once', () => {
    const first = openMemory();
    first.store(arabic, entries);
    first.close();
    const bytes = readFileSync(file);
    const at = bytes.indexOf('sentence number 7');
    expect(at).toBeGreaterThan(0);
    bytes.write('sentence NUMBER 7', at);
    writeFileSync(file, bytes);

    const { memory, problems } = openForRun();
    const found = memory.lookup(arabic, sources);
    expect([...found.values()].map((hit) => hit.target)).not.toContain('sentence NUMBER 7');
    expect(found.size).toBe(0);
    expect(problems).toEqual([
      expect.stringMatching(/was damaged \(the stored translation of "جملة رقم 7" does not match its checksum\); it was moved aside/),
    ]);
    memory.store(arabic, entries);
    expect(memory.lookup(arabic, sources).get('جملة رقم 7')?.target).toBe('sentence number 7');
    expect(problems).toHaveLength(1);
  });

  it('on a full disk: a write that fails is said once, nothing is thrown, and writes work again once there is space', () => {
    const disk = mountSmallDisk(path.join(dir, 'small-disk'), '1m');
    try {
      const { memory, problems } = openForRun(path.join(disk.dir, 'cache.sqlite'));
      memory.store(arabic, entries.slice(0, 1));
      disk.fill();
      const many = Array.from({ length: 2000 }, (_, i) => ({
        source: `مصدر ${i} ${'ع'.repeat(200)}`,
        target: `target ${i} ${'x'.repeat(200)}`,
        flags: [],
      }));
      expect(() => memory.store({ ...arabic, id: 'Xenova/opus-mt-vi-en' }, many)).not.toThrow();
      expect(() => memory.store({ ...arabic, id: 'Xenova/opus-mt-vi-en' }, many)).not.toThrow();
      expect(problems).toEqual([
        expect.stringMatching(
          /cache\.sqlite cannot store translations \(database or disk is full\); the translations still reach the outputs/,
        ),
      ]);
      disk.free();
      // The model row of the failed write was rolled back with it; the next write makes it again.
      memory.store({ ...arabic, id: 'Xenova/opus-mt-vi-en' }, many.slice(0, 10));
      expect(
        memory.lookup(
          { ...arabic, id: 'Xenova/opus-mt-vi-en' },
          many.slice(0, 10).map((entry) => entry.source),
        ).size,
      ).toBe(10);
      expect(memory.lookup(arabic, sources.slice(0, 1)).size).toBe(1);
      expect(problems).toHaveLength(1);
      memory.close();
    } finally {
      disk.unmount();
    }
  });
});
