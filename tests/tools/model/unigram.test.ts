import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusWords, segmentWord, trainUnigram } from '../../../tools/model/unigram.js';

const english = await readFile(path.resolve(import.meta.dirname, '../../../tools/corpus/en.txt'), 'utf8');

describe('trainUnigram', () => {
  const pieces = trainUnigram(english, { vocabSize: 500 });
  const scores = new Map(pieces.map((p) => [p.piece, p.score]));

  it('returns exactly the requested number of pieces, best first, as log-probabilities', () => {
    expect(pieces).toHaveLength(500);
    expect(new Set(pieces.map((p) => p.piece)).size).toBe(500);
    expect(pieces.every((p, i) => p.score <= 0 && (i === 0 || p.score <= (pieces[i - 1]?.score as number)))).toBe(true);
    const mass = pieces.reduce((sum, p) => sum + Math.exp(p.score), 0);
    expect(mass).toBeGreaterThan(0.99);
    expect(mass).toBeLessThan(1.01);
  });

  it('keeps every character of the corpus, so no corpus word needs <unk>', () => {
    for (const char of new Set(Array.from(english.replace(/\s/g, '')))) expect(scores.has(char), char).toBe(true);
    for (const word of corpusWords(english).keys()) expect(segmentWord(word, scores)?.join('')).toBe(word);
  });

  it('learns frequent words whole and splits rare ones into sub-words', () => {
    expect(segmentWord('▁the', scores)).toEqual(['▁the']);
    expect(segmentWord('▁said', scores)).toEqual(['▁said']);
    const rare = segmentWord('▁governments', scores) as string[];
    expect(rare.length).toBeGreaterThan(1);
    expect(rare.some((piece) => piece.length >= 3)).toBe(true);
  });

  it('is deterministic', () => {
    expect(trainUnigram(english, { vocabSize: 500 })).toEqual(pieces);
  });

  it('refuses a vocabulary smaller than the corpus alphabet', () => {
    expect(() => trainUnigram(english, { vocabSize: 10 })).toThrow(/distinct characters/);
  });
});
