import { describe, expect, it } from 'vitest';
import { parseGlossary } from '../../src/terminology/glossary.js';
import { englishTermCount, TermMatcher } from '../../src/terminology/match.js';
import { normalizeArabic, normalizeVietnamese } from '../../src/terminology/normalize.js';

const found = (matcher: TermMatcher, sentence: string) =>
  matcher.find(sentence).map((m) => [m.entry.target, sentence.slice(m.start, m.end)]);

describe('normalisation', () => {
  it('makes Arabic hamza forms, alef maqsura, tatweel and diacritics equal', () => {
    expect(normalizeArabic('أَحْمَد')).toBe(normalizeArabic('احمد'));
    expect(normalizeArabic('إسرائيل')).toBe('اسراييل');
    expect(normalizeArabic('مصطفى')).toBe(normalizeArabic('مصطفي'));
    expect(normalizeArabic('كيـــشيدا')).toBe('كيشيدا');
  });

  it('makes both Vietnamese tone placements and NFC/NFD one form', () => {
    expect(normalizeVietnamese('hoà')).toBe(normalizeVietnamese('hòa'));
    expect(normalizeVietnamese('thuỷ')).toBe(normalizeVietnamese('thủy'));
    expect(normalizeVietnamese('Nhật Bản'.normalize('NFD'))).toBe('Nhật Bản'.normalize('NFC'));
  });
});

describe('TermMatcher', () => {
  it('matches Arabic terms under attached prefixes and spelling variants', () => {
    const matcher = new TermMatcher(parseGlossary('كيشيدا\tKishida\nالأمم المتحدة\tUnited Nations\nمصطفى\tMostafa\n', 'ar.tsv'), 'ar');
    expect(found(matcher, 'وكيشيدا قال')).toEqual([['Kishida', 'وكيشيدا']]);
    expect(found(matcher, 'وقال لكيشيدا وللأمم المتحدة')).toEqual([
      ['Kishida', 'لكيشيدا'],
      ['United Nations', 'وللأمم المتحدة'],
    ]);
    expect(found(matcher, 'مع مصطفي وبالامم المتحدة')).toEqual([
      ['Mostafa', 'مصطفي'],
      ['United Nations', 'وبالامم المتحدة'],
    ]);
    expect(found(matcher, 'كيشيداوي')).toEqual([]);
  });

  it('matches Vietnamese in either tone placement, longer terms first', () => {
    const matcher = new TermMatcher(
      parseGlossary('Kishida\tKishida\nKishida Fumio\tFumio Kishida\nThanh Hoá\tThanh Hoa\n', 'vi.tsv'),
      'vi',
    );
    expect(found(matcher, 'Thủ tướng Kishida Fumio tới Thanh Hóa, rồi Kishida về.')).toEqual([
      ['Fumio Kishida', 'Kishida Fumio'],
      ['Thanh Hoa', 'Thanh Hóa'],
      ['Kishida', 'Kishida'],
    ]);
  });
});

describe('englishTermCount', () => {
  it('counts whole words, in the case the entry asks for', () => {
    expect(englishTermCount('PM Kishida said', 'Kishida', false)).toBe(1);
    expect(englishTermCount('PM kishida said', 'Kishida', false)).toBe(0);
    expect(englishTermCount('PM kishida said', 'Kishida', true)).toBe(1);
    expect(englishTermCount('Kishidas', 'Kishida', true)).toBe(0);
    expect(englishTermCount('XNUMX and XNUMX, not XNUMXs', 'XNUMX', false)).toBe(2);
  });
});
