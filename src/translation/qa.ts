/**
 * The checks run on every model output, so a suspicious one is flagged rather than hidden: decoding
 * loops, odd lengths, and what must survive translation: numbers, Latin-script names and codes inside
 * Arabic or Vietnamese text, URLs and e-mail addresses. A model that drops or mangles one (`F-35` →
 * `F-16`, `2,4` → `24`, the scraped placeholder `XNUMX` → nothing) leaves a fluent sentence that says
 * something else, so each kind that is in the source and not in the English flags the sentence.
 */
import type { LanguageCode, SentenceFlag } from '../article.js';
import { asciiDigits, languageByCode } from '../languages.js';

export interface MissingFromTranslation {
  /** Source numbers, as written, whose value is nowhere in the English. */
  numbers: string[];
  /** Latin-script names, acronyms and codes (see `foreignLatinTokens`) not in the English. */
  latinTokens: string[];
  /** URLs and e-mail addresses not in the English, as written. */
  addresses: string[];
}

/** Arabic-Indic (U+0660…) and Extended Arabic-Indic / Persian (U+06F0…) digits. */
const DIGITS = '0-9\u0660-\u0669\u06F0-\u06F9';
/** Digit groups joined by `.` `,` `٫` (Arabic decimal separator) or `٬` (Arabic thousands separator). */
const NUMBER = new RegExp(`[${DIGITS}]+(?:[.,\u066B\u066C][${DIGITS}]+)*`, 'gu');
const URL = /\b(?:https?:\/\/|www\.)[^\s<>"'«»]+/giu;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
/** Letters and digits, with inner `-` `.` `&` `/` `_` `'` (F-35, TP.HCM, RDT&E). */
const TOKEN = /[\p{L}\p{N}]+(?:[-.&/_'’][\p{L}\p{N}]+)*/gu;
/** The same in Latin letters only, so a Latin name written against an Arabic word (`إلىNottingham`) comes apart from it. */
const LATIN_TOKEN = /[\p{Script=Latin}\p{N}]+(?:[-.&/_'’][\p{Script=Latin}\p{N}]+)*/gu;
/** A number with a unit written onto it (`30m`, `10h`, `5km`): the number is checked as a number. */
const NUMBER_WITH_UNIT = /^[0-9]+[a-z]{1,3}$/u;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"»”’]+$/u;

/** Vietnamese abbreviations of Vietnamese words (UBND = Ủy ban nhân dân): translated, not kept. */
const VIETNAMESE_ACRONYMS = new Set([
  'UBND',
  'TP',
  'HCM',
  'TPHCM',
  'THPT',
  'THCS',
  'CSGT',
  'BHXH',
  'BHYT',
  'CP',
  'QH',
  'TW',
  'TAND',
  // Liên Hợp Quốc (UN), Tổng thống (President), CHDCND Triều Tiên (DPRK), ADN (DNA), câu lạc bộ, huấn luyện viên.
  'LHQ',
  'TT',
  'CHDCND',
  'ADN',
  'CLB',
  'HLV',
]);

const ENGLISH_MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ENGLISH_NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  hundred: 100,
  dozen: 12,
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  half: 0.5,
  a: 1,
  an: 1,
  once: 1,
  single: 1,
  twice: 2,
  both: 2,
  pair: 2,
  couple: 2,
  none: 0,
  no: 0,
};
/** Currency codes the English may write as a sign or a word (`USD 5` → `$5`, `5 dollars`). */
const CURRENCIES: Record<string, string[]> = {
  usd: ['$', 'dollar'],
  eur: ['€', 'euro'],
  gbp: ['£', 'pound'],
  vnd: ['dong'],
};
const ENGLISH_MULTIPLIERS: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };

/** Flags for what the English lost: `number-missing`, `latin-token-missing`, `address-missing`. */
export function preservationFlags(source: string, target: string, lang: LanguageCode): SentenceFlag[] {
  const missing = missingFromTranslation(source, target, lang);
  const flags: SentenceFlag[] = [];
  if (missing.numbers.length > 0) flags.push('number-missing');
  if (missing.latinTokens.length > 0) flags.push('latin-token-missing');
  if (missing.addresses.length > 0) flags.push('address-missing');
  return flags;
}

export function missingFromTranslation(source: string, target: string, lang: LanguageCode): MissingFromTranslation {
  const sourceAddresses = addressesIn(source);
  const targetAddresses = addressesIn(target);
  const englishAddresses = new Set(targetAddresses.map((address) => address.toLowerCase()));
  const addresses = sourceAddresses.filter((address) => !englishAddresses.has(address.toLowerCase()));

  const sourceText = withoutAddresses(source, sourceAddresses);
  const englishText = withoutAddresses(target, targetAddresses);
  const englishTokens = [...englishText.matchAll(TOKEN)].map((match) => match[0]);
  const english = englishNumbers(englishText);
  const months = new Set(englishTokens.map((token) => token.slice(0, 3).toLowerCase()).filter((prefix) => ENGLISH_MONTHS.includes(prefix)));
  const numbers = [...sourceText.matchAll(NUMBER)]
    .filter((match) => {
      const values = numberValues(match[0]);
      if (values.some((value) => english.has(value))) return false;
      // A 24-hour clock (17h30, 17:00) may come out on a 12-hour one (5:30 pm), minutes `00` not at all.
      if (match[0] === '00' || (Number(values[0]) > 12 && Number(values[0]) <= 24 && english.has(String(Number(values[0]) - 12))))
        return false;
      // Vietnamese dates write the month as a number (`tháng 4`), English as a name (April).
      const month = Number(values[0]);
      const beforeIt = sourceText.slice(Math.max(0, match.index - 6), match.index).toLowerCase();
      return !(lang === 'vi' && /tháng\s$/u.test(beforeIt) && month >= 1 && month <= 12 && months.has(ENGLISH_MONTHS[month - 1]!));
    })
    .map((match) => match[0]);

  const englishSkeletons = englishTokens.map(skeleton);
  const lowerEnglish = englishText.toLowerCase();
  const latinTokens = foreignLatinTokens(sourceText, lang).filter(
    (token) =>
      !appearsIn(skeleton(token), englishSkeletons) &&
      !(CURRENCIES[token.toLowerCase()] ?? []).some((written) => lowerEnglish.includes(written)),
  );
  return { numbers: unique(numbers), latinTokens: unique(latinTokens), addresses: unique(addresses) };
}

/**
 * Latin-script tokens that a translation into English should keep as they are. In a language written
 * in another script (Arabic; per languages.ts, else the script most of the text is in), every token with a Latin letter: names, acronyms, codes (`NSATU`, `F-35`,
 * `iPhone`). In a Latin-script language (Vietnamese), only tokens with no letter outside ASCII (no
 * Vietnamese diacritic, no đ) that look like an acronym or a code: two capitals or more (`NSATU`,
 * `XNUMX`, `JSDF`) or letters with digits (`F-35`, `A321`); Vietnamese abbreviations of Vietnamese
 * words (`UBND`) excepted. Plain capitalized words are left out there: `Nam` or `Long` may be
 * Vietnamese names or words, which the English may rightly spell another way.
 */
export function foreignLatinTokens(text: string, lang: LanguageCode): string[] {
  const tokens = [...text.matchAll(LATIN_TOKEN)].map((match) => match[0]).filter((token) => /\p{Script=Latin}/u.test(token));
  // A language without a row in languages.ts: the script most of the text is written in.
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  const latinLetters = text.match(/\p{Script=Latin}/gu)?.length ?? 0;
  const script = languageByCode(lang)?.script ?? (latinLetters * 2 >= letters ? 'Latin' : 'other');
  if (script !== 'Latin') return tokens;
  return tokens.filter((token) => {
    if (/[^ -~]/u.test(token) || NUMBER_WITH_UNIT.test(token) || (lang === 'vi' && VIETNAMESE_ACRONYMS.has(token))) return false;
    const capitals = token.match(/[A-Z]/gu)?.length ?? 0;
    return capitals >= 2 || (/[A-Za-z]/u.test(token) && /[0-9]/u.test(token));
  });
}

function addressesIn(text: string): string[] {
  return [...text.matchAll(URL), ...text.matchAll(EMAIL)].map((match) => match[0].replace(TRAILING_PUNCTUATION, ''));
}

function withoutAddresses(text: string, addresses: string[]): string {
  return addresses.reduce((rest, address) => rest.split(address).join(' '), text);
}

/**
 * The values a number as written may stand for: `.` and `,` are thousands separators in one
 * convention and decimal marks in the other (English 1,234.5; Vietnamese 1.234,5), so both
 * readings count, the thousands one only where the groups have three digits.
 */
function numberValues(written: string): string[] {
  // The value only: the Arabic thousands separator is dropped.
  const number = asciiDigits(written, { thousands: '' });
  const values = new Set<string>();
  for (const [thousands, decimal] of [
    [',', '.'],
    ['.', ','],
  ] as const) {
    const parts = number.split(decimal);
    if (parts.length > 2) continue;
    const [whole, fraction] = parts as [string, string | undefined];
    const groups = whole.split(thousands);
    if (groups.length > 1 && groups.slice(1).some((group) => group.length !== 3)) continue;
    values.add(canonical(groups.join(''), fraction));
  }
  return [...values];
}

function canonical(whole: string, fraction: string | undefined): string {
  const digits = `${whole}${fraction === undefined ? '' : `.${fraction}`}`;
  // Long digit strings (phone numbers, ids) are compared as written; numbers by value (07 = 7, 2.50 = 2.5).
  return whole.length > 15 ? digits : String(Number(digits));
}

/** Every value the English states: its numbers (also scaled by a following million…), and number words. */
function englishNumbers(text: string): Set<string> {
  const values = new Set<string>();
  const words = text.toLowerCase().split(/[^a-z]+/u);
  words.forEach((word, i) => {
    const value = ENGLISH_NUMBER_WORDS[word];
    if (value === undefined) return;
    values.add(String(value));
    // fifty-eight, thirty two
    const unit = ENGLISH_NUMBER_WORDS[words[i + 1] ?? ''];
    if (value >= 20 && value <= 90 && value % 10 === 0 && unit !== undefined && unit >= 1 && unit <= 9) values.add(String(value + unit));
  });
  for (const match of text.matchAll(NUMBER)) {
    const scale = /^\s*(thousand|million|billion|trillion)\b/iu.exec(text.slice(match.index + match[0].length))?.[1];
    for (const value of numberValues(match[0])) {
      values.add(value);
      if (scale) values.add(String(Number(value) * ENGLISH_MULTIPLIERS[scale.toLowerCase()]!));
    }
  }
  return values;
}

/** Lowercase letters and digits only: `Block-XNUMX` and `block XNUMX` compare alike. */
function skeleton(token: string): string {
  return token.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** The token is one English token, or up to three consecutive ones written together (a plural `s` allowed: F-16s). */
function appearsIn(token: string, english: string[]): boolean {
  for (let i = 0; i < english.length; i++) {
    let joined = '';
    for (let j = i; j < Math.min(english.length, i + 3); j++) {
      joined += english[j];
      if (joined === token || joined === `${token}s`) return true;
      if (!token.startsWith(joined)) break;
    }
  }
  return false;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

export interface LengthRatioBounds {
  min: number;
  max: number;
}

/**
 * True when some 1–`maxN`-gram repeats back to back at least `minRepeats` times: the signature of a
 * decoder stuck in a loop (`the the the the`, `of the war of the war of the war of the war`).
 */
export function hasRepetitionLoop(ids: readonly number[], maxN = 4, minRepeats = 4): boolean {
  for (let n = 1; n <= maxN; n++) {
    // A loop of n-grams may start at any offset, so walk the sequence once per offset in steps of n.
    for (let offset = 0; offset < n; offset++) {
      let repeats = 1;
      for (let i = offset + n; i + n <= ids.length; i += n) {
        repeats = sameGram(ids, i - n, i, n) ? repeats + 1 : 1;
        if (repeats >= minRepeats) return true;
      }
    }
  }
  return false;
}

function sameGram(ids: readonly number[], a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (ids[a + k] !== ids[b + k]) return false;
  return true;
}

/** Whether target/source token counts (special tokens excluded) are in bounds. */
export function lengthRatioWithin(sourceTokens: number, targetTokens: number, bounds: LengthRatioBounds): boolean {
  if (sourceTokens <= 0) return true;
  const ratio = targetTokens / sourceTokens;
  return ratio >= bounds.min && ratio <= bounds.max;
}
