import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSourceArticles, seededRandom, writeCorpus } from '../../tools/corpus.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsbridge-corpus-'));
  dirs.push(dir);
  return dir;
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('writeCorpus', () => {
  it('recombines the sample articles into distinct articles of both languages', () => {
    const sources = readSourceArticles(['input']);
    expect(sources.filter((article) => article.lang === 'ar')).toHaveLength(4);
    const corpus = writeCorpus({ n: 30, seed: 7, sourceDirs: ['input'], outDir: tempDir(), arabicShare: 0.5 });
    expect(corpus.files).toHaveLength(30);
    const texts = corpus.files.map((file) => readFileSync(file, 'utf8'));
    expect(new Set(texts).size).toBe(30);
    expect(corpus.byLanguage.ar).toBeGreaterThan(5);
    expect(corpus.byLanguage.vi).toBeGreaterThan(5);
    const titles = new Set(sources.map((article) => article.title));
    expect(texts.every((text) => titles.has(text.split('\n')[0]!))).toBe(true);
  });

  it('makes the same corpus from the same seed', () => {
    const options = { n: 10, seed: 3, sourceDirs: ['input'] };
    const first = writeCorpus({ ...options, outDir: tempDir() }).files.map((file) => readFileSync(file, 'utf8'));
    const second = writeCorpus({ ...options, outDir: tempDir() }).files.map((file) => readFileSync(file, 'utf8'));
    expect(second).toEqual(first);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, differs across seeds, stays in [0, 1)', () => {
    const a = Array.from({ length: 100 }, seededRandom(1));
    expect(Array.from({ length: 100 }, seededRandom(1))).toEqual(a);
    expect(Array.from({ length: 100 }, seededRandom(2))).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
