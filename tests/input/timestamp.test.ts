import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractArticle } from '../../src/input/html-extract.js';
import { isTimestamp } from '../../src/input/timestamp.js';
import { ARABIC_PARAGRAPHS, ARABIC_TITLE, newsPage } from '../fixtures/pages.js';

describe('isTimestamp', () => {
  it('takes a line that is a date or time and nothing else, in Arabic, Vietnamese and English', () => {
    for (const line of [
      'March 5, 2024 08:30 AM',
      'Nov. 20, 2019 5:52 AM EST',
      'First Published: Tuesday, November 19, 2019 08:38 AM',
      'Updated: Nov 20th, 2019',
      '2 hours ago',
      'الثلاثاء ١٩ نوفمبر ٢٠١٩ - ٠٨:٣٨',
      'آخر تحديث: الثلاثاء 19 نوفمبر 2019 - 08:38 م بتوقيت غرينتش',
      'الأحد 5 كانون الثاني 2020',
      'الجمعة 12 ربيع الأول 1441 هـ',
      'منذ 3 ساعات',
      '12:30 صباحًا',
      'Thứ Năm, 20/11/2019 - 08:38 GMT+7',
      'Thứ Hai, 05/05/2025 14:30 (GMT+07:00)',
      'Cập nhật: 10:00 ngày 5/5/2025',
      'Chủ nhật, 4/5/2025 | 10:00',
      '3 giờ trước',
    ]) {
      expect(isTimestamp(line), line).toBe(true);
    }
  });

  it('never takes a line with a word of its own, however short, nor a bare year or number', () => {
    for (const line of [
      'ميزانية عام 2025',
      'خطة رؤية 2030',
      'قتلى 1948 نازح',
      'Best tech gadgets of 2019',
      'September 2018 open thread',
      'Hotline: 1900 55 88 33',
      '*23h30, 1/11/2020, SVĐ Old Trafford, vòng 7 Premier League',
      'Hà Nội, 20/11/2019',
      'Vision 2030',
      'نوفمبر 2019',
      '2 - 1',
    ]) {
      expect(isTimestamp(line), line).toBe(false);
    }
  });

  // Dates as the languages' own formats write them (CLDR through Intl), with and without a label or a
  // time zone; and the same lines with one word of a sentence put in anywhere.
  const locale = fc.constantFrom('ar', 'ar-SY', 'ar-DZ', 'vi', 'en', 'en-GB');
  const instant = fc.date({ min: new Date('1990-01-01'), max: new Date('2040-12-31'), noInvalidDate: true });
  const dateStyle = fc.constantFrom('full', 'long', 'medium', 'short');
  const timeStyle = fc.constantFrom(undefined, 'short', 'medium');
  const label = fc.constantFrom('', 'Updated: ', 'Published ', 'Cập nhật: ', 'آخر تحديث: ', 'نشر في ');
  const zone = fc.constantFrom('', ' GMT+7', ' UTC', ' EST', ' (GMT+07:00)');
  const dateLine = fc
    .tuple(locale, instant, dateStyle, timeStyle, label, zone)
    .map(
      ([lang, date, day, time, before, after]) =>
        `${before}${new Intl.DateTimeFormat(lang, { dateStyle: day, timeStyle: time, timeZone: 'UTC' }).format(date)}${after}`,
    );
  const ownWord = fc.constantFrom('ميزانية', 'رؤية', 'نازح', 'قتلى', 'kế hoạch', 'ngân sách', 'budget', 'vision', 'killed', 'Hà Nội');

  it('on generated dates: every one is a timestamp, and none is with a word of its own added', () => {
    fc.assert(
      fc.property(dateLine, ownWord, fc.nat(), (line, word, at) => {
        expect(isTimestamp(line)).toBe(true);
        const words = line.split(' ');
        words.splice(at % (words.length + 1), 0, word);
        expect(isTimestamp(words.join(' '))).toBe(false);
      }),
      { seed: 18, numRuns: 2000 },
    );
  });
});

describe('extractArticle and short lines with a year (issue 18)', () => {
  it('keeps 200 short paragraphs with a year, and still takes out the page timestamp', () => {
    const yearLines = Array.from(
      { length: 200 },
      (_, i) => [`ميزانية عام ${2000 + (i % 30)}`, `خطة رؤية ${2030 + (i % 5)}`, `قتلى ${1948 + (i % 20)} نازح`][i % 3]!,
    );
    const html = newsPage({ title: ARABIC_TITLE, paragraphs: [...ARABIC_PARAGRAPHS, ...yearLines], lang: 'ar', dir: 'rtl' }).replace(
      '<p>March 5, 2024 08:30 AM</p>',
      '<p>الثلاثاء ١٩ نوفمبر ٢٠١٩ - ٠٨:٣٨</p>',
    );
    const article = extractArticle(html);
    if (!article.found) throw new Error(article.why);
    expect(article.blocks.map((block) => block.text)).toEqual([...ARABIC_PARAGRAPHS, ...yearLines]);
    expect(article.dropped.filter((block) => block.reason === 'timestamp')).toEqual([
      { text: 'الثلاثاء ١٩ نوفمبر ٢٠١٩ - ٠٨:٣٨', reason: 'timestamp' },
    ]);
  });
});
