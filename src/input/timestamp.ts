/**
 * Whether a short line of a web page is a date or time and nothing else (`Nov. 20, 2019 5:52 AM EST`,
 * `الثلاثاء ١٩ نوفمبر ٢٠١٩ - ٠٨:٣٨`, `Thứ Năm, 20/11/2019 - 08:38 GMT+7`, `منذ 3 ساعات`): once its
 * numbers, separators and date words are taken away, no word may remain. A line with a year and
 * words of its own (`ميزانية عام 2025`, `خطة رؤية 2030`, `قتلى 1948 نازح`) is text, whatever its length.
 *
 * The date words are CLDR's, through `Intl`, in the languages pages come in: month and weekday names,
 * day periods (`AM`, `ص`, `CH`, `sáng`), the words of relative times (`hours ago`, `قبل`, `trước`,
 * `hôm qua`) and the words date formats put between the parts (`at`, `lúc`, `في`); plus the labels
 * news sites set before a date, which CLDR does not have. Time zones are read by their shape (`EST`, `GMT+7`).
 */

/** Locales whose date words are known: the languages read, and the Arabic regions' month names (`كانون الثاني`, `جانفي`, `شتنبر`) and the Hijri calendar's. */
const DATE_LOCALES = ['en', 'en-GB', 'en-AU', 'en-IN', 'vi', 'ar', 'ar-SY', 'ar-DZ', 'ar-MA', 'ar-u-ca-islamic'];

/** Words news sites write around a date that CLDR has not: labels (`Updated`, `Cập nhật`, `آخر تحديث`) and common forms. */
const LABEL_WORDS = [
  ...['updated', 'update', 'first', 'published', 'posted', 'modified', 'last', 'on', 'at', 'sept', 'a.m', 'p.m', 'am', 'pm'],
  ...['cập', 'nhật', 'đăng', 'lúc', 'ngày', 'tháng', 'năm', 'giờ', 'phút', 'giây', 'sáng', 'trưa', 'chiều', 'tối', 'đêm'],
  ...[
    'نشر',
    'نشرت',
    'تحديث',
    'اخر',
    'آخر',
    'تاريخ',
    'النشر',
    'الساعة',
    'ساعة',
    'توقيت',
    'غرينتش',
    'جرينتش',
    'هـ',
    'ه',
    'م',
    'ص',
    'صباحا',
    'مساء',
    'ظهرا',
    'عصرا',
    'فجرا',
    'ليلا',
  ],
];

/** Words of time past that CLDR does not give (it has `قبل`; news writes `منذ`). */
const AGO_WORDS = ['منذ'];

/** Arabic letters written onto the next word (`و` and, `ب` at/by, `ل` for): `بتوقيت`, `وتحديث`. */
const ARABIC_PROCLITIC = /^[وبل]/u;
/** Arabic short vowels, tanwin and tatweel, which dates write or not (`صباحًا`, `مساءً`). */
const ARABIC_MARKS = /[\u064B-\u065F\u0670\u0640]/gu;
const BIDI_MARKS = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/gu;

/** A time zone: `GMT+7`, `UTC+07:00`, `EST`, `AEDT`, `ICT`, `Z` (matched before lower-casing). */
const TIME_ZONE = /(?<![\p{L}\p{N}])(?:[A-Z]{1,4}T|UTC|Z)(?:[+-]\d{1,2}(?::?\d{2})?)?(?![\p{L}])/gu;
/** A clock time: `08:38`, `4:10`, `20h13`. */
const CLOCK_TIME = /(?<![\p{L}\p{N}])\d{1,2}[:h]\d{2}(?::\d{2})?(?![\p{N}])/gu;
/** A date in figures: `20/11/2019`, `2019-11-20`, `20.11.2019`. */
const NUMERIC_DATE = /(?<![\p{N}])\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}(?![\p{N}])/gu;
/** A number, with an English ordinal ending (`20th`). */
const NUMBER = /\d+(?:st|nd|rd|th)?(?![\p{L}])/gu;
const WORD = /[\p{L}\p{M}]+(?:\.[\p{L}\p{M}]+)*/gu;

interface DateWords {
  /** Every date word, lower-cased. */
  all: Set<string>;
  /** The words of month and weekday names. */
  names: Set<string>;
  /** The words that make a number a time past, whatever its unit (`ago`, `قبل`, `trước`, `منذ`). */
  ago: Set<string>;
}

let dateWords: DateWords | undefined;

/** The date words of `DATE_LOCALES`, built once from `Intl`. */
function loadDateWords(): DateWords {
  const all = new Set<string>();
  const ago = new Set<string>(AGO_WORDS);
  const wordsOf = (text: string) => normalize(text).match(WORD) ?? [];
  const names = new Set<string>();
  const add = (text: string, into?: Set<string>) => {
    for (const word of wordsOf(text)) {
      all.add(word);
      into?.add(word);
    }
  };
  for (const locale of DATE_LOCALES) {
    for (const style of ['long', 'short'] as const) {
      // Alone and inside a date, where some languages write the month otherwise (`tháng 1`, `thg 1`).
      const month = new Intl.DateTimeFormat(locale, { month: style, timeZone: 'UTC' });
      const inDate = new Intl.DateTimeFormat(locale, { day: 'numeric', month: style, year: 'numeric', timeZone: 'UTC' });
      for (let m = 0; m < 12; m++) {
        add(month.format(Date.UTC(2019, m, 15, 12)), names);
        for (const part of inDate.formatToParts(Date.UTC(2019, m, 15, 12))) if (part.type === 'month') add(part.value, names);
      }
      const weekday = new Intl.DateTimeFormat(locale, { weekday: style, timeZone: 'UTC' });
      for (let d = 0; d < 7; d++) add(weekday.format(Date.UTC(2019, 8, 1 + d, 12)), names);
    }
    for (const dayPeriod of [undefined, 'short', 'long'] as const) {
      const hour = new Intl.DateTimeFormat(locale, { hour: 'numeric', hour12: true, dayPeriod, timeZone: 'UTC' });
      for (let h = 0; h < 24; h++)
        for (const part of hour.formatToParts(Date.UTC(2019, 0, 1, h))) if (part.type !== 'hour') add(part.value);
    }
    // The words a full date and time puts between its parts (`at`, `lúc`, `في`).
    for (const dateStyle of ['full', 'long', 'medium'] as const) {
      const parts = new Intl.DateTimeFormat(locale, { dateStyle, timeStyle: 'short', timeZone: 'UTC' }).formatToParts(new Date());
      for (const part of parts) if (part.type === 'literal') add(part.value);
    }
    // Times past (`3 hours ago`, `hôm qua`); the words all units share are the language's "ago".
    const units = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'] as const;
    let shared: Set<string> | undefined;
    for (const numeric of ['always', 'auto'] as const) {
      const format = new Intl.RelativeTimeFormat(locale, { numeric });
      for (const unit of units) {
        for (const value of [-1, -2, -3, -5, -11, -100, 0]) add(format.format(value, unit));
        const past = new Set(wordsOf(new Intl.RelativeTimeFormat(locale).format(-3, unit)));
        shared = shared ? new Set([...shared].filter((word) => past.has(word))) : past;
      }
    }
    for (const word of shared ?? []) ago.add(word);
  }
  for (const word of [...LABEL_WORDS, ...AGO_WORDS]) add(word);
  return { all, names, ago };
}

/** Western digits, lower case, and no Arabic vowel marks or direction marks. */
function normalize(text: string): string {
  return westernDigits(text).normalize('NFC').replace(BIDI_MARKS, '').replace(ARABIC_MARKS, '').toLowerCase();
}

/** Arabic-Indic and Persian digits as 0–9, so one pattern reads dates in either. */
function westernDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06F0-\u06F9]/gu, (digit) => {
    const code = digit.codePointAt(0)!;
    return String(code >= 0x06f0 ? code - 0x06f0 : code - 0x0660);
  });
}

function isDateWord(word: string, words: DateWords): boolean {
  return words.all.has(word) || (ARABIC_PROCLITIC.test(word) && words.all.has(word.slice(1)));
}

/**
 * A date or time and nothing else: a clock time, a date in figures, a month or weekday with two
 * numbers (`20 Nov 2019`, `tháng 5 năm 2025`) or a number with a word of time past (`3 giờ trước`),
 * and no word that is not a date word.
 */
export function isTimestamp(line: string): boolean {
  dateWords ??= loadDateWords();
  const text = normalize(line.replace(TIME_ZONE, ' '));
  const clock = text.match(CLOCK_TIME)?.length ?? 0;
  const numericDates = text.match(NUMERIC_DATE)?.length ?? 0;
  const rest = text.replace(CLOCK_TIME, ' ').replace(NUMERIC_DATE, ' ');
  const numbers = rest.match(NUMBER)?.length ?? 0;
  const words = rest.replace(NUMBER, ' ').match(WORD) ?? [];
  const known = dateWords;
  if (!words.every((word) => isDateWord(word, known))) return false;
  const has = (set: Set<string>) => words.some((word) => set.has(word) || set.has(word.replace(ARABIC_PROCLITIC, '')));
  return clock > 0 || numericDates > 0 || (numbers >= 2 && has(known.names)) || (numbers >= 1 && has(known.ago));
}
