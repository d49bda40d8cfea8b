import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { splitSentences } from '../../src/stages/segment.js';
import { foreignLatinTokens, missingFromTranslation, preservationFlags } from '../../src/translation/qa.js';
import { Translator } from '../../src/translation/translator.js';
import { tinyTranslatorOptions } from '../helpers/translator-options.js';

describe('missingFromTranslation: numbers', () => {
  it('reads Arabic-Indic and Persian digits, the Arabic decimal and thousands separators', () => {
    const source = 'بلغ النمو ٢٫٤ في المئة في عام ۲۰۲۳ وبلغت الصادرات ١٬٥٠٠ طن.';
    expect(missingFromTranslation(source, 'Growth reached 2.4 percent in 2023 and exports 1,500 tonnes.', 'ar').numbers).toEqual([]);
    expect(missingFromTranslation(source, 'Growth reached 24 percent in 2023 and exports 1,500 tonnes.', 'ar').numbers).toEqual(['٢٫٤']);
    expect(missingFromTranslation(source, 'Growth reached 2.4 percent in 2013 and exports 1.5 tonnes.', 'ar').numbers).toEqual([
      '۲۰۲۳',
      '١٬٥٠٠',
    ]);
  });

  it('takes `.` and `,` as thousands separators or decimal marks, whichever convention the text uses', () => {
    expect(missingFromTranslation('Giá 1.000.000 đồng', 'The price is 1,000,000 dong', 'vi').numbers).toEqual([]);
    expect(missingFromTranslation('Giá 1.000.000 đồng', 'The price is 1 million dong', 'vi').numbers).toEqual([]);
    expect(missingFromTranslation('Tăng 2,5 triệu', 'Up 2.5 million', 'vi').numbers).toEqual([]);
    expect(missingFromTranslation('Tăng 2,5 triệu', 'Up 25 million', 'vi').numbers).toEqual(['2,5']);
    expect(missingFromTranslation('بلغ 2.4 في المئة', 'reached 2,4 percent', 'ar').numbers).toEqual([]);
  });

  it('accepts small numbers written as words and Vietnamese month numbers written as English month names', () => {
    expect(missingFromTranslation('3 người bị thương', 'Three people were injured', 'vi').numbers).toEqual([]);
    expect(missingFromTranslation('ngày 10 tháng 4 năm 2024', 'on April 10, 2024', 'vi').numbers).toEqual([]);
    expect(missingFromTranslation('ngày 10 tháng 4 năm 2024', 'on May 10, 2024', 'vi').numbers).toEqual(['4']);
    expect(missingFromTranslation('có 4 người', 'there are April people', 'vi').numbers).toEqual(['4']);
    expect(missingFromTranslation('قال 58٪ من الناخبين', 'Fifty-eight percent of voters said', 'ar').numbers).toEqual([]);
    expect(missingFromTranslation('lúc 17:00', 'at 5 pm', 'vi').numbers).toEqual([]);
  });
});

describe('missingFromTranslation: Latin-script tokens', () => {
  it('in Arabic text, wants every Latin token in the English, hyphens and spacing aside', () => {
    const source = 'قال متحدث باسم NSATU إن طائرات F-35 وصلت.';
    expect(missingFromTranslation(source, 'An NSATU spokesman said F-35 jets arrived.', 'ar')).toEqual({
      numbers: [],
      latinTokens: [],
      addresses: [],
    });
    expect(missingFromTranslation(source, 'A spokesman for Nsatu said F 35 jets arrived.', 'ar').latinTokens).toEqual([]);
    expect(missingFromTranslation(source, 'A spokesman said the jets arrived.', 'ar')).toEqual({
      numbers: ['35'],
      latinTokens: ['NSATU', 'F-35'],
      addresses: [],
    });
  });

  it('separates a Latin name written against an Arabic word', () => {
    expect(foreignLatinTokens('ذهب إلىNottingham أمس', 'ar')).toEqual(['Nottingham']);
  });

  it('in Vietnamese text, takes only acronyms and codes with no Vietnamese letter', () => {
    expect(foreignLatinTokens('Chạy 30m lúc 10h với TT Trump và LHQ', 'vi')).toEqual([]);
    expect(missingFromTranslation('Giá 5 USD', 'The price is $5', 'vi').latinTokens).toEqual([]);
    const source = 'Tên lửa Tiêu chuẩn (SM) Block-XNUMX IIA của Lloyd Austin, UBND và ĐBSCL';
    expect(foreignLatinTokens(source, 'vi')).toEqual(['SM', 'Block-XNUMX', 'IIA']);
    expect(missingFromTranslation(source, 'Standard Missile (SM) Block XNUMX IIA', 'vi').latinTokens).toEqual([]);
    expect(missingFromTranslation(source, 'The Standard Missile Block IIA', 'vi').latinTokens).toEqual(['SM', 'Block-XNUMX']);
  });
});

describe('missingFromTranslation: URLs and e-mail addresses', () => {
  it('wants each as written, trailing punctuation aside', () => {
    const source = 'Xem https://example.com/a?b=1. hoặc viết tới info@bqp.vn.';
    expect(missingFromTranslation(source, 'See https://example.com/a?b=1 or write to info@bqp.vn.', 'vi').addresses).toEqual([]);
    expect(missingFromTranslation(source, 'See the site or write to info@bqp.com.', 'vi').addresses).toEqual([
      'https://example.com/a?b=1',
      'info@bqp.vn',
    ]);
    // Digits inside an address count with the address, not as numbers.
    expect(missingFromTranslation('انظر www.site2024.com', 'See www.site2024.com', 'ar')).toEqual({
      numbers: [],
      latinTokens: [],
      addresses: [],
    });
  });
});

describe('preservationFlags', () => {
  it('gives one flag per kind that the English lost, none when it kept everything', () => {
    expect(preservationFlags('وصلت 3 طائرات F-16 إلى nato.int', 'Three F-16s arrived at nato.int', 'ar')).toEqual([]);
    expect(preservationFlags('وصلت 3 طائرات F-16، انظر http://nato.int', 'Planes arrived', 'ar')).toEqual([
      'number-missing',
      'latin-token-missing',
      'address-missing',
    ]);
  });
});

describe('the Translator on seed 004 (XNUMX)', () => {
  let translator: Translator;
  beforeAll(async () => {
    // Intra-op threads left to the Translator's default.
    translator = await Translator.load(tinyTranslatorOptions(inject('modelsDir'), 'vi', 'q8', { threadsPerWorker: undefined }));
  });
  afterAll(() => translator.dispose());

  it('passes XNUMX through untouched or flags the sentence', async () => {
    const text = await readFile('input/004_218d8854b8495f3e.txt', 'utf8');
    const sentences = splitSentences(text, 'vi').filter((sentence) => sentence.includes('XNUMX'));
    expect(sentences.length).toBeGreaterThanOrEqual(3);
    const results = await translator.translate(sentences);
    for (const result of results) {
      expect(result.target.includes('XNUMX') || result.flags.includes('latin-token-missing')).toBe(true);
    }
  });
});
